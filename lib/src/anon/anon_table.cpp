// GENERATED FILE, do not edit. Regenerate from the repository root with
//   /usr/bin/python3 scripts/gen-anon-table.py
// which reads ../shared/dicom-standard and writes this file; the e2e test
// anon_table checks that the two agree.
//
// Source: DICOM PS3.15 Annex E.
//   Table E.1-1:    confidentiality-profile-attributes-2024b.json (PS3.15 2024b),
//                   merged by tag with part15-2023b.xml (PS3.15 2023b):
//                   a 2024b row wins, the Retd. flag comes from 2023b.
//   Table E.3.10-1: part15-2023b.xml (PS3.15 2023b).
// SHA-256 of the inputs:
//   confidentiality-profile-attributes-2024b.json
//     a99a35d1278e2bace8d90ff791b11aea2d45f1e3e1230388eb5224c9dbcd29e6
//   part15-2023b.xml
//     29e15b7449b65e37ff8e75193e12b12efc14fdb08517a88058751e73fbc1db64
//
// A tag with x digits has 0 nibbles in its mask; "(gggg,eeee) where gggg is
// odd" (every private attribute) is group 0x0001 with group mask 0x0001.
// After each row: the tag as the standard writes it, the edition the row
// comes from, and, when 2023b differed, its values.
#include "anon/anon_table.h"

#include <iterator>

namespace iep::anon {

// clang-format off
const Row kTable[] = {
    {0x0000, 0x1000, 0xFFFF, 0xFFFF, "Affected SOP Instance UID", false, false,
     {"X", "", "K", "", "", "", "", "", "", "", ""}},  // (0000,1000) 2024b
    {0x0000, 0x1001, 0xFFFF, 0xFFFF, "Requested SOP Instance UID", false, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0000,1001) 2024b
    {0x0001, 0x0000, 0x0001, 0x0000, "Private Attributes", false, false,
     {"X", "C", "", "", "", "", "", "", "", "", ""}},  // (gggg,eeee) where gggg is odd 2024b
    {0x0002, 0x0003, 0xFFFF, 0xFFFF, "Media Storage SOP Instance UID", false, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0002,0003) 2024b
    {0x0004, 0x1511, 0xFFFF, 0xFFFF, "Referenced SOP Instance UID in File", false, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0004,1511) 2024b
    {0x0008, 0x0012, 0xFFFF, 0xFFFF, "Instance Creation Date", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0012) 2024b
    {0x0008, 0x0013, 0xFFFF, 0xFFFF, "Instance Creation Time", true, false,
     {"X/Z/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0013) 2024b
    {0x0008, 0x0014, 0xFFFF, 0xFFFF, "Instance Creator UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,0014) 2024b
    {0x0008, 0x0015, 0xFFFF, 0xFFFF, "Instance Coercion DateTime", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0015) 2024b
    {0x0008, 0x0017, 0xFFFF, 0xFFFF, "Acquisition UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,0017) 2024b
    {0x0008, 0x0018, 0xFFFF, 0xFFFF, "SOP Instance UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,0018) 2024b
    {0x0008, 0x0019, 0xFFFF, 0xFFFF, "Pyramid UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,0019) 2024b
    {0x0008, 0x0020, 0xFFFF, 0xFFFF, "Study Date", true, false,
     {"Z", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0020) 2024b
    {0x0008, 0x0021, 0xFFFF, 0xFFFF, "Series Date", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0021) 2024b
    {0x0008, 0x0022, 0xFFFF, 0xFFFF, "Acquisition Date", true, false,
     {"X/Z", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0022) 2024b
    {0x0008, 0x0023, 0xFFFF, 0xFFFF, "Content Date", true, false,
     {"Z/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0023) 2024b
    {0x0008, 0x0024, 0xFFFF, 0xFFFF, "Overlay Date", true, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0024) 2024b
    {0x0008, 0x0025, 0xFFFF, 0xFFFF, "Curve Date", true, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0025) 2024b
    {0x0008, 0x002A, 0xFFFF, 0xFFFF, "Acquisition DateTime", true, false,
     {"X/Z/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,002A) 2024b
    {0x0008, 0x0030, 0xFFFF, 0xFFFF, "Study Time", true, false,
     {"Z", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0030) 2024b
    {0x0008, 0x0031, 0xFFFF, 0xFFFF, "Series Time", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0031) 2024b
    {0x0008, 0x0032, 0xFFFF, 0xFFFF, "Acquisition Time", true, false,
     {"X/Z", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0032) 2024b
    {0x0008, 0x0033, 0xFFFF, 0xFFFF, "Content Time", true, false,
     {"Z/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0033) 2024b
    {0x0008, 0x0034, 0xFFFF, 0xFFFF, "Overlay Time", true, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0034) 2024b
    {0x0008, 0x0035, 0xFFFF, 0xFFFF, "Curve Time", true, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0035) 2024b
    {0x0008, 0x0050, 0xFFFF, 0xFFFF, "Accession Number", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0008,0050) 2024b
    {0x0008, 0x0054, 0xFFFF, 0xFFFF, "Retrieve AE Title", true, false,
     {"X", "", "", "C", "", "", "", "", "", "", ""}},  // (0008,0054) 2024b
    {0x0008, 0x0055, 0xFFFF, 0xFFFF, "Station AE Title", true, false,
     {"X", "", "", "C", "", "", "", "", "", "", ""}},  // (0008,0055) 2024b
    {0x0008, 0x0058, 0xFFFF, 0xFFFF, "Failed SOP Instance UID List", false, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,0058) 2024b
    {0x0008, 0x0080, 0xFFFF, 0xFFFF, "Institution Name", true, false,
     {"X/Z/D", "", "", "", "K", "", "", "", "", "", ""}},  // (0008,0080) 2024b
    {0x0008, 0x0081, 0xFFFF, 0xFFFF, "Institution Address", true, false,
     {"X", "", "", "", "K", "", "", "", "", "", ""}},  // (0008,0081) 2024b
    {0x0008, 0x0082, 0xFFFF, 0xFFFF, "Institution Code Sequence", true, false,
     {"X/Z/D", "", "", "", "K", "", "", "", "", "", ""}},  // (0008,0082) 2024b
    {0x0008, 0x0090, 0xFFFF, 0xFFFF, "Referring Physician's Name", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0008,0090) 2024b
    {0x0008, 0x0092, 0xFFFF, 0xFFFF, "Referring Physician's Address", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0008,0092) 2024b
    {0x0008, 0x0094, 0xFFFF, 0xFFFF, "Referring Physician's Telephone Numbers", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0008,0094) 2024b
    {0x0008, 0x0096, 0xFFFF, 0xFFFF, "Referring Physician Identification Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0008,0096) 2024b
    {0x0008, 0x009C, 0xFFFF, 0xFFFF, "Consulting Physician's Name", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0008,009C) 2024b
    {0x0008, 0x009D, 0xFFFF, 0xFFFF, "Consulting Physician Identification Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0008,009D) 2024b
    {0x0008, 0x0106, 0xFFFF, 0xFFFF, "Context Group Version", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0106) 2024b
    {0x0008, 0x0107, 0xFFFF, 0xFFFF, "Context Group Local Version", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0107) 2024b
    {0x0008, 0x0201, 0xFFFF, 0xFFFF, "Timezone Offset From UTC", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0008,0201) 2024b
    {0x0008, 0x1000, 0xFFFF, 0xFFFF, "Network ID", false, true,
     {"X", "", "", "C", "", "", "", "", "", "", ""}},  // (0008,1000) 2024b
    {0x0008, 0x1010, 0xFFFF, 0xFFFF, "Station Name", true, false,
     {"X/Z/D", "", "", "K", "", "", "", "", "", "", ""}},  // (0008,1010) 2024b
    {0x0008, 0x1030, 0xFFFF, 0xFFFF, "Study Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0008,1030) 2024b
    {0x0008, 0x103E, 0xFFFF, 0xFFFF, "Series Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0008,103E) 2024b
    {0x0008, 0x1040, 0xFFFF, 0xFFFF, "Institutional Department Name", true, false,
     {"X", "", "", "", "K", "", "", "", "", "", ""}},  // (0008,1040) 2024b
    {0x0008, 0x1041, 0xFFFF, 0xFFFF, "Institutional Department Type Code Sequence", true, false,
     {"X", "", "", "", "K", "", "", "", "", "", ""}},  // (0008,1041) 2024b
    {0x0008, 0x1048, 0xFFFF, 0xFFFF, "Physician(s) of Record", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0008,1048) 2024b
    {0x0008, 0x1049, 0xFFFF, 0xFFFF, "Physician(s) of Record Identification Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0008,1049) 2024b
    {0x0008, 0x1050, 0xFFFF, 0xFFFF, "Performing Physician's Name", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0008,1050) 2024b
    {0x0008, 0x1052, 0xFFFF, 0xFFFF, "Performing Physician Identification Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0008,1052) 2024b
    {0x0008, 0x1060, 0xFFFF, 0xFFFF, "Name of Physician(s) Reading Study", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0008,1060) 2024b
    {0x0008, 0x1062, 0xFFFF, 0xFFFF, "Physician(s) Reading Study Identification Sequence",
     true, false, {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0008,1062) 2024b
    {0x0008, 0x1070, 0xFFFF, 0xFFFF, "Operators' Name", true, false,
     {"X/Z/D", "", "", "", "", "", "", "", "", "", ""}},  // (0008,1070) 2024b
    {0x0008, 0x1072, 0xFFFF, 0xFFFF, "Operator Identification Sequence", true, false,
     {"X/D", "", "", "", "", "", "", "", "", "", ""}},  // (0008,1072) 2024b
    {0x0008, 0x1080, 0xFFFF, 0xFFFF, "Admitting Diagnoses Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0008,1080) 2024b
    {0x0008, 0x1084, 0xFFFF, 0xFFFF, "Admitting Diagnoses Code Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0008,1084) 2024b
    {0x0008, 0x1088, 0xFFFF, 0xFFFF, "Pyramid Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0008,1088) 2024b
    {0x0008, 0x1110, 0xFFFF, 0xFFFF, "Referenced Study Sequence", true, false,
     {"X/Z", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,1110) 2024b
    {0x0008, 0x1111, 0xFFFF, 0xFFFF, "Referenced Performed Procedure Step Sequence", true, false,
     {"X/Z/D", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,1111) 2024b
    {0x0008, 0x1120, 0xFFFF, 0xFFFF, "Referenced Patient Sequence", true, false,
     {"X", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,1120) 2024b
    {0x0008, 0x1140, 0xFFFF, 0xFFFF, "Referenced Image Sequence", true, false,
     {"X/Z/U*", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,1140) 2024b
    {0x0008, 0x1155, 0xFFFF, 0xFFFF, "Referenced SOP Instance UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,1155) 2024b
    {0x0008, 0x1195, 0xFFFF, 0xFFFF, "Transaction UID", false, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,1195) 2024b
    {0x0008, 0x2111, 0xFFFF, 0xFFFF, "Derivation Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0008,2111) 2024b
    {0x0008, 0x2112, 0xFFFF, 0xFFFF, "Source Image Sequence", true, false,
     {"X/Z/U*", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,2112) 2024b
    {0x0008, 0x3010, 0xFFFF, 0xFFFF, "Irradiation Event UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0008,3010) 2024b
    {0x0008, 0x4000, 0xFFFF, 0xFFFF, "Identifying Comments", false, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0008,4000) 2024b
    {0x0010, 0x0010, 0xFFFF, 0xFFFF, "Patient's Name", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0010,0010) 2024b
    {0x0010, 0x0020, 0xFFFF, 0xFFFF, "Patient ID", true, false,
     {"Z/D", "", "", "", "", "", "", "", "", "", ""}},  // (0010,0020) 2024b; 2023b basicProfile Z
    {0x0010, 0x0021, 0xFFFF, 0xFFFF, "Issuer of Patient ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,0021) 2024b
    {0x0010, 0x0030, 0xFFFF, 0xFFFF, "Patient's Birth Date", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0010,0030) 2024b
    {0x0010, 0x0032, 0xFFFF, 0xFFFF, "Patient's Birth Time", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,0032) 2024b
    {0x0010, 0x0040, 0xFFFF, 0xFFFF, "Patient's Sex", true, false,
     {"Z", "", "", "", "", "K", "", "", "", "", ""}},  // (0010,0040) 2024b
    {0x0010, 0x0050, 0xFFFF, 0xFFFF, "Patient's Insurance Plan Code Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,0050) 2024b
    {0x0010, 0x0101, 0xFFFF, 0xFFFF, "Patient's Primary Language Code Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,0101) 2024b
    {0x0010, 0x0102, 0xFFFF, 0xFFFF, "Patient's Primary Language Modifier Code Sequence",
     true, false, {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,0102) 2024b
    {0x0010, 0x1000, 0xFFFF, 0xFFFF, "Other Patient IDs", true, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,1000) 2024b
    {0x0010, 0x1001, 0xFFFF, 0xFFFF, "Other Patient Names", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,1001) 2024b
    {0x0010, 0x1002, 0xFFFF, 0xFFFF, "Other Patient IDs Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,1002) 2024b
    {0x0010, 0x1005, 0xFFFF, 0xFFFF, "Patient's Birth Name", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,1005) 2024b
    {0x0010, 0x1010, 0xFFFF, 0xFFFF, "Patient's Age", true, false,
     {"X", "", "", "", "", "K", "", "", "", "", ""}},  // (0010,1010) 2024b
    {0x0010, 0x1020, 0xFFFF, 0xFFFF, "Patient's Size", true, false,
     {"X", "", "", "", "", "K", "", "", "", "", ""}},  // (0010,1020) 2024b
    {0x0010, 0x1030, 0xFFFF, 0xFFFF, "Patient's Weight", true, false,
     {"X", "", "", "", "", "K", "", "", "", "", ""}},  // (0010,1030) 2024b
    {0x0010, 0x1040, 0xFFFF, 0xFFFF, "Patient's Address", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,1040) 2024b
    {0x0010, 0x1050, 0xFFFF, 0xFFFF, "Insurance Plan Identification", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,1050) 2024b
    {0x0010, 0x1060, 0xFFFF, 0xFFFF, "Patient's Mother's Birth Name", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,1060) 2024b
    {0x0010, 0x1080, 0xFFFF, 0xFFFF, "Military Rank", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,1080) 2024b
    {0x0010, 0x1081, 0xFFFF, 0xFFFF, "Branch of Service", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,1081) 2024b
    {0x0010, 0x1090, 0xFFFF, 0xFFFF, "Medical Record Locator", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,1090) 2024b
    {0x0010, 0x1100, 0xFFFF, 0xFFFF, "Referenced Patient Photo Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,1100) 2024b
    {0x0010, 0x2000, 0xFFFF, 0xFFFF, "Medical Alerts", false, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0010,2000) 2024b
    {0x0010, 0x2110, 0xFFFF, 0xFFFF, "Allergies", false, false,
     {"X", "", "", "", "", "C", "", "", "C", "", ""}},  // (0010,2110) 2024b
    {0x0010, 0x2150, 0xFFFF, 0xFFFF, "Country of Residence", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,2150) 2024b
    {0x0010, 0x2152, 0xFFFF, 0xFFFF, "Region of Residence", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,2152) 2024b
    {0x0010, 0x2154, 0xFFFF, 0xFFFF, "Patient's Telephone Numbers", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,2154) 2024b
    {0x0010, 0x2155, 0xFFFF, 0xFFFF, "Patient's Telecom Information", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,2155) 2024b
    {0x0010, 0x2160, 0xFFFF, 0xFFFF, "Ethnic Group", true, false,
     {"X", "", "", "", "", "K", "", "", "", "", ""}},  // (0010,2160) 2024b
    {0x0010, 0x2180, 0xFFFF, 0xFFFF, "Occupation", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0010,2180) 2024b
    {0x0010, 0x21A0, 0xFFFF, 0xFFFF, "Smoking Status", false, false,
     {"X", "", "", "", "", "K", "", "", "", "", ""}},  // (0010,21A0) 2024b
    {0x0010, 0x21B0, 0xFFFF, 0xFFFF, "Additional Patient History", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0010,21B0) 2024b
    {0x0010, 0x21C0, 0xFFFF, 0xFFFF, "Pregnancy Status", false, false,
     {"X", "", "", "", "", "K", "", "", "", "", ""}},  // (0010,21C0) 2024b
    {0x0010, 0x21D0, 0xFFFF, 0xFFFF, "Last Menstrual Date", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0010,21D0) 2024b
    {0x0010, 0x21F0, 0xFFFF, 0xFFFF, "Patient's Religious Preference", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,21F0) 2024b
    {0x0010, 0x2203, 0xFFFF, 0xFFFF, "Patient's Sex Neutered", true, false,
     {"X/Z", "", "", "", "", "K", "", "", "", "", ""}},  // (0010,2203) 2024b
    {0x0010, 0x2297, 0xFFFF, 0xFFFF, "Responsible Person", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,2297) 2024b
    {0x0010, 0x2299, 0xFFFF, 0xFFFF, "Responsible Organization", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0010,2299) 2024b
    {0x0010, 0x4000, 0xFFFF, 0xFFFF, "Patient Comments", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0010,4000) 2024b
    {0x0012, 0x0010, 0xFFFF, 0xFFFF, "Clinical Trial Sponsor Name", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0010) 2024b
    {0x0012, 0x0020, 0xFFFF, 0xFFFF, "Clinical Trial Protocol ID", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0020) 2024b
    {0x0012, 0x0021, 0xFFFF, 0xFFFF, "Clinical Trial Protocol Name", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0021) 2024b
    {0x0012, 0x0022, 0xFFFF, 0xFFFF, "Issuer of Clinical Trial Protocol ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0022) 2024b new
    {0x0012, 0x0023, 0xFFFF, 0xFFFF, "Other Clinical Trial Protocol IDs Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0023) 2024b new
    {0x0012, 0x0030, 0xFFFF, 0xFFFF, "Clinical Trial Site ID", true, false,
     {"Z", "", "", "", "K", "", "", "", "", "", ""}},  // (0012,0030) 2024b
    {0x0012, 0x0031, 0xFFFF, 0xFFFF, "Clinical Trial Site Name", true, false,
     {"Z", "", "", "", "K", "", "", "", "", "", ""}},  // (0012,0031) 2024b
    {0x0012, 0x0032, 0xFFFF, 0xFFFF, "Issuer of Clinical Trial Site ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0032) 2024b new
    {0x0012, 0x0040, 0xFFFF, 0xFFFF, "Clinical Trial Subject ID", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0040) 2024b
    {0x0012, 0x0041, 0xFFFF, 0xFFFF, "Issuer of Clinical Trial Subject ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0041) 2024b new
    {0x0012, 0x0042, 0xFFFF, 0xFFFF, "Clinical Trial Subject Reading ID", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0042) 2024b
    {0x0012, 0x0043, 0xFFFF, 0xFFFF, "Issuer of Clinical Trial Subject Reading ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0043) 2024b new
    {0x0012, 0x0050, 0xFFFF, 0xFFFF, "Clinical Trial Time Point ID", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0050) 2024b
    {0x0012, 0x0051, 0xFFFF, 0xFFFF, "Clinical Trial Time Point Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0012,0051) 2024b
    {0x0012, 0x0055, 0xFFFF, 0xFFFF, "Issuer of Clinical Trial Time Point ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0055) 2024b new
    {0x0012, 0x0060, 0xFFFF, 0xFFFF, "Clinical Trial Coordinating Center Name", true, false,
     {"Z", "", "", "", "K", "", "", "", "", "", ""}},  // (0012,0060) 2024b
    {0x0012, 0x0071, 0xFFFF, 0xFFFF, "Clinical Trial Series ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0071) 2024b
    {0x0012, 0x0072, 0xFFFF, 0xFFFF, "Clinical Trial Series Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0012,0072) 2024b
    {0x0012, 0x0073, 0xFFFF, 0xFFFF, "Issuer of Clinical Trial Series ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0073) 2024b new
    {0x0012, 0x0081, 0xFFFF, 0xFFFF, "Clinical Trial Protocol Ethics Committee Name", true, false,
     {"D", "", "", "", "K", "", "", "", "", "", ""}},  // (0012,0081) 2024b
    {0x0012, 0x0082, 0xFFFF, 0xFFFF, "Clinical Trial Protocol Ethics Committee Approval Number",
     true, false, {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0012,0082) 2024b
    {0x0012, 0x0086, 0xFFFF, 0xFFFF, "Ethics Committee Approval Effectiveness Start Date",
     true, false, {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0012,0086) 2024b
    {0x0012, 0x0087, 0xFFFF, 0xFFFF, "Ethics Committee Approval Effectiveness End Date",
     true, false, {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0012,0087) 2024b
    {0x0014, 0x407C, 0xFFFF, 0xFFFF, "Calibration Time", false, false,
     {"X", "", "", "K", "", "", "K", "C", "", "", ""}},  // (0014,407C) 2024b
    {0x0014, 0x407E, 0xFFFF, 0xFFFF, "Calibration Date", false, false,
     {"X", "", "", "K", "", "", "K", "C", "", "", ""}},  // (0014,407E) 2024b
    {0x0016, 0x002B, 0xFFFF, 0xFFFF, "Maker Note", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0016,002B) 2024b
    {0x0016, 0x004B, 0xFFFF, 0xFFFF, "Device Setting Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0016,004B) 2024b
    {0x0016, 0x004D, 0xFFFF, 0xFFFF, "Camera Owner Name", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,004D) 2024b
    {0x0016, 0x004E, 0xFFFF, 0xFFFF, "Lens Specification", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0016,004E) 2024b
    {0x0016, 0x004F, 0xFFFF, 0xFFFF, "Lens Make", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0016,004F) 2024b
    {0x0016, 0x0050, 0xFFFF, 0xFFFF, "Lens Model", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0016,0050) 2024b
    {0x0016, 0x0051, 0xFFFF, 0xFFFF, "Lens Serial Number", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0016,0051) 2024b
    {0x0016, 0x0070, 0xFFFF, 0xFFFF, "GPS Version ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0070) 2024b
    {0x0016, 0x0071, 0xFFFF, 0xFFFF, "GPS Latitude Ref", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0071) 2024b
    {0x0016, 0x0072, 0xFFFF, 0xFFFF, "GPS Latitude", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0072) 2024b
    {0x0016, 0x0073, 0xFFFF, 0xFFFF, "GPS Longitude Ref", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0073) 2024b
    {0x0016, 0x0074, 0xFFFF, 0xFFFF, "GPS Longitude", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0074) 2024b
    {0x0016, 0x0075, 0xFFFF, 0xFFFF, "GPS Altitude Ref", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0075) 2024b
    {0x0016, 0x0076, 0xFFFF, 0xFFFF, "GPS Altitude", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0076) 2024b
    {0x0016, 0x0077, 0xFFFF, 0xFFFF, "GPS Time Stamp", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0077) 2024b
    {0x0016, 0x0078, 0xFFFF, 0xFFFF, "GPS Satellites", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0078) 2024b
    {0x0016, 0x0079, 0xFFFF, 0xFFFF, "GPS Status", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0079) 2024b
    {0x0016, 0x007A, 0xFFFF, 0xFFFF, "GPS Measure Mode", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,007A) 2024b
    {0x0016, 0x007B, 0xFFFF, 0xFFFF, "GPS DOP", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,007B) 2024b
    {0x0016, 0x007C, 0xFFFF, 0xFFFF, "GPS Speed Ref", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,007C) 2024b
    {0x0016, 0x007D, 0xFFFF, 0xFFFF, "GPS Speed", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,007D) 2024b
    {0x0016, 0x007E, 0xFFFF, 0xFFFF, "GPS Track Ref", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,007E) 2024b
    {0x0016, 0x007F, 0xFFFF, 0xFFFF, "GPS Track", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,007F) 2024b
    {0x0016, 0x0080, 0xFFFF, 0xFFFF, "GPS Img Direction Ref", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0080) 2024b
    {0x0016, 0x0081, 0xFFFF, 0xFFFF, "GPS Img Direction", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0081) 2024b
    {0x0016, 0x0082, 0xFFFF, 0xFFFF, "GPS Map Datum", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0082) 2024b
    {0x0016, 0x0083, 0xFFFF, 0xFFFF, "GPS Dest Latitude Ref", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0083) 2024b
    {0x0016, 0x0084, 0xFFFF, 0xFFFF, "GPS Dest Latitude", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0084) 2024b
    {0x0016, 0x0085, 0xFFFF, 0xFFFF, "GPS Dest Longitude Ref", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0085) 2024b
    {0x0016, 0x0086, 0xFFFF, 0xFFFF, "GPS Dest Longitude", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0086) 2024b
    {0x0016, 0x0087, 0xFFFF, 0xFFFF, "GPS Dest Bearing Ref", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0087) 2024b
    {0x0016, 0x0088, 0xFFFF, 0xFFFF, "GPS Dest Bearing", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0088) 2024b
    {0x0016, 0x0089, 0xFFFF, 0xFFFF, "GPS Dest Distance Ref", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,0089) 2024b
    {0x0016, 0x008A, 0xFFFF, 0xFFFF, "GPS Dest Distance", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,008A) 2024b
    {0x0016, 0x008B, 0xFFFF, 0xFFFF, "GPS Processing Method", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,008B) 2024b
    {0x0016, 0x008C, 0xFFFF, 0xFFFF, "GPS Area Information", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,008C) 2024b
    {0x0016, 0x008D, 0xFFFF, 0xFFFF, "GPS Date Stamp", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0016,008D) 2024b
    {0x0016, 0x008E, 0xFFFF, 0xFFFF, "GPS Differential", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0016,008E) 2024b
    {0x0018, 0x0010, 0xFFFF, 0xFFFF, "Contrast/Bolus Agent", true, false,
     {"Z/D", "", "", "", "", "", "", "", "C", "", ""}},  // (0018,0010) 2024b
    {0x0018, 0x0027, 0xFFFF, 0xFFFF, "Intervention Drug Stop Time", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,0027) 2024b
    {0x0018, 0x0035, 0xFFFF, 0xFFFF, "Intervention Drug Start Time", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,0035) 2024b
    {0x0018, 0x1000, 0xFFFF, 0xFFFF, "Device Serial Number", true, false,
     {"X/Z/D", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,1000) 2024b
    {0x0018, 0x1002, 0xFFFF, 0xFFFF, "Device UID", true, false,
     {"U", "", "K", "K", "", "", "", "", "", "", ""}},  // (0018,1002) 2024b
    {0x0018, 0x1004, 0xFFFF, 0xFFFF, "Plate ID", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,1004) 2024b
    {0x0018, 0x1005, 0xFFFF, 0xFFFF, "Generator ID", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,1005) 2024b
    {0x0018, 0x1007, 0xFFFF, 0xFFFF, "Cassette ID", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,1007) 2024b
    {0x0018, 0x1008, 0xFFFF, 0xFFFF, "Gantry ID", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,1008) 2024b
    {0x0018, 0x1009, 0xFFFF, 0xFFFF, "Unique Device Identifier", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,1009) 2024b
    {0x0018, 0x100A, 0xFFFF, 0xFFFF, "UDI Sequence", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,100A) 2024b
    {0x0018, 0x100B, 0xFFFF, 0xFFFF, "Manufacturer's Device Class UID", true, false,
     {"U", "", "K", "K", "", "", "", "", "", "", ""}},  // (0018,100B) 2024b
    {0x0018, 0x1012, 0xFFFF, 0xFFFF, "Date of Secondary Capture", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,1012) 2024b
    {0x0018, 0x1014, 0xFFFF, 0xFFFF, "Time of Secondary Capture", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,1014) 2024b
    {0x0018, 0x1030, 0xFFFF, 0xFFFF, "Protocol Name", true, false,
     {"X/D", "", "", "", "", "", "", "", "C", "", ""}},  // (0018,1030) 2024b
    {0x0018, 0x1042, 0xFFFF, 0xFFFF, "Contrast/Bolus Start Time", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,1042) 2024b
    {0x0018, 0x1043, 0xFFFF, 0xFFFF, "Contrast/Bolus Stop Time", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,1043) 2024b
    {0x0018, 0x1072, 0xFFFF, 0xFFFF, "Radiopharmaceutical Start Time", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,1072) 2024b
    {0x0018, 0x1073, 0xFFFF, 0xFFFF, "Radiopharmaceutical Stop Time", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,1073) 2024b
    {0x0018, 0x1078, 0xFFFF, 0xFFFF, "Radiopharmaceutical Start DateTime", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,1078) 2024b
    {0x0018, 0x1079, 0xFFFF, 0xFFFF, "Radiopharmaceutical Stop DateTime", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,1079) 2024b
    {0x0018, 0x11BB, 0xFFFF, 0xFFFF, "Acquisition Field Of View Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (0018,11BB) 2024b
    {0x0018, 0x1200, 0xFFFF, 0xFFFF, "Date of Last Calibration", true, false,
     {"X", "", "", "K", "", "", "K", "C", "", "", ""}},  // (0018,1200) 2024b
    {0x0018, 0x1201, 0xFFFF, 0xFFFF, "Time of Last Calibration", true, false,
     {"X", "", "", "K", "", "", "K", "C", "", "", ""}},  // (0018,1201) 2024b
    {0x0018, 0x1202, 0xFFFF, 0xFFFF, "DateTime of Last Calibration", false, false,
     {"X", "", "", "K", "", "", "K", "C", "", "", ""}},  // (0018,1202) 2024b
    {0x0018, 0x1203, 0xFFFF, 0xFFFF, "Calibration DateTime", true, false,
     {"Z", "", "", "K", "", "", "K", "C", "", "", ""}},  // (0018,1203) 2024b
    {0x0018, 0x1204, 0xFFFF, 0xFFFF, "Date of Manufacture", true, false,
     {"X", "", "", "K", "", "", "K", "C", "", "", ""}},  // (0018,1204) 2024b new
    {0x0018, 0x1205, 0xFFFF, 0xFFFF, "Date of Installation", true, false,
     {"X", "", "", "K", "", "", "K", "C", "", "", ""}},  // (0018,1205) 2024b new
    {0x0018, 0x1400, 0xFFFF, 0xFFFF, "Acquisition Device Processing Description", true, false,
     {"X/D", "", "", "", "", "", "", "", "C", "", ""}},  // (0018,1400) 2024b
    {0x0018, 0x2042, 0xFFFF, 0xFFFF, "Target UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0018,2042) 2024b
    {0x0018, 0x4000, 0xFFFF, 0xFFFF, "Acquisition Comments", false, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0018,4000) 2024b
    {0x0018, 0x5011, 0xFFFF, 0xFFFF, "Transducer Identification Sequence", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,5011) 2024b
    {0x0018, 0x700A, 0xFFFF, 0xFFFF, "Detector ID", true, false,
     {"X/D", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,700A) 2024b
    {0x0018, 0x700C, 0xFFFF, 0xFFFF, "Date of Last Detector Calibration", true, false,
     {"X/D", "", "", "K", "", "", "K", "C", "", "", ""}},  // (0018,700C) 2024b
    {0x0018, 0x700E, 0xFFFF, 0xFFFF, "Time of Last Detector Calibration", true, false,
     {"X/D", "", "", "K", "", "", "K", "C", "", "", ""}},  // (0018,700E) 2024b
    {0x0018, 0x9074, 0xFFFF, 0xFFFF, "Frame Acquisition DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,9074) 2024b
    {0x0018, 0x9151, 0xFFFF, 0xFFFF, "Frame Reference DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,9151) 2024b
    {0x0018, 0x9185, 0xFFFF, 0xFFFF, "Respiratory Motion Compensation Technique Description",
     true, false, {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0018,9185) 2024b
    {0x0018, 0x9367, 0xFFFF, 0xFFFF, "X-Ray Source ID", true, false,
     {"D", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,9367) 2024b
    {0x0018, 0x9369, 0xFFFF, 0xFFFF, "Source Start DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,9369) 2024b
    {0x0018, 0x936A, 0xFFFF, 0xFFFF, "Source End DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,936A) 2024b
    {0x0018, 0x9371, 0xFFFF, 0xFFFF, "X-Ray Detector ID", true, false,
     {"D", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,9371) 2024b
    {0x0018, 0x9373, 0xFFFF, 0xFFFF, "X-Ray Detector Label", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0018,9373) 2024b
    {0x0018, 0x937B, 0xFFFF, 0xFFFF, "Multi-energy Acquisition Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0018,937B) 2024b
    {0x0018, 0x937F, 0xFFFF, 0xFFFF, "Decomposition Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0018,937F) 2024b
    {0x0018, 0x9424, 0xFFFF, 0xFFFF, "Acquisition Protocol Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0018,9424) 2024b
    {0x0018, 0x9516, 0xFFFF, 0xFFFF, "Start Acquisition DateTime", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,9516) 2024b
    {0x0018, 0x9517, 0xFFFF, 0xFFFF, "End Acquisition DateTime", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,9517) 2024b
    {0x0018, 0x9623, 0xFFFF, 0xFFFF, "Functional Sync Pulse", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,9623) 2024b
    {0x0018, 0x9701, 0xFFFF, 0xFFFF, "Decay Correction DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,9701) 2024b
    {0x0018, 0x9804, 0xFFFF, 0xFFFF, "Exclusion Start DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,9804) 2024b
    {0x0018, 0x9919, 0xFFFF, 0xFFFF, "Instruction Performed DateTime", true, false,
     {"Z/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,9919) 2024b
    {0x0018, 0x9937, 0xFFFF, 0xFFFF, "Requested Series Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0018,9937) 2024b
    {0x0018, 0xA002, 0xFFFF, 0xFFFF, "Contribution DateTime", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0018,A002) 2024b
    {0x0018, 0xA003, 0xFFFF, 0xFFFF, "Contribution Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0018,A003) 2024b
    {0x0020, 0x000D, 0xFFFF, 0xFFFF, "Study Instance UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0020,000D) 2024b
    {0x0020, 0x000E, 0xFFFF, 0xFFFF, "Series Instance UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0020,000E) 2024b
    {0x0020, 0x0010, 0xFFFF, 0xFFFF, "Study ID", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0020,0010) 2024b
    {0x0020, 0x0027, 0xFFFF, 0xFFFF, "Pyramid Label", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0020,0027) 2024b
    {0x0020, 0x0052, 0xFFFF, 0xFFFF, "Frame of Reference UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0020,0052) 2024b
    {0x0020, 0x0200, 0xFFFF, 0xFFFF, "Synchronization Frame of Reference UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0020,0200) 2024b
    {0x0020, 0x3401, 0xFFFF, 0xFFFF, "Modifying Device ID", false, true,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0020,3401) 2024b
    {0x0020, 0x3403, 0xFFFF, 0xFFFF, "Modified Image Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0020,3403) 2024b
    {0x0020, 0x3405, 0xFFFF, 0xFFFF, "Modified Image Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0020,3405) 2024b
    {0x0020, 0x3406, 0xFFFF, 0xFFFF, "Modified Image Description", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0020,3406) 2024b
    {0x0020, 0x4000, 0xFFFF, 0xFFFF, "Image Comments", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0020,4000) 2024b
    {0x0020, 0x9158, 0xFFFF, 0xFFFF, "Frame Comments", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0020,9158) 2024b
    {0x0020, 0x9161, 0xFFFF, 0xFFFF, "Concatenation UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0020,9161) 2024b
    {0x0020, 0x9164, 0xFFFF, 0xFFFF, "Dimension Organization UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0020,9164) 2024b
    {0x0028, 0x1199, 0xFFFF, 0xFFFF, "Palette Color Lookup Table UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0028,1199) 2024b
    {0x0028, 0x1214, 0xFFFF, 0xFFFF, "Large Palette Color Lookup Table UID", false, true,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0028,1214) 2024b
    {0x0028, 0x4000, 0xFFFF, 0xFFFF, "Image Presentation Comments", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0028,4000) 2024b
    {0x0032, 0x0012, 0xFFFF, 0xFFFF, "Study ID Issuer", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0032,0012) 2024b
    {0x0032, 0x0032, 0xFFFF, 0xFFFF, "Study Verified Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,0032) 2024b
    {0x0032, 0x0033, 0xFFFF, 0xFFFF, "Study Verified Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,0033) 2024b
    {0x0032, 0x0034, 0xFFFF, 0xFFFF, "Study Read Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,0034) 2024b
    {0x0032, 0x0035, 0xFFFF, 0xFFFF, "Study Read Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,0035) 2024b
    {0x0032, 0x1000, 0xFFFF, 0xFFFF, "Scheduled Study Start Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,1000) 2024b
    {0x0032, 0x1001, 0xFFFF, 0xFFFF, "Scheduled Study Start Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,1001) 2024b
    {0x0032, 0x1010, 0xFFFF, 0xFFFF, "Scheduled Study Stop Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,1010) 2024b
    {0x0032, 0x1011, 0xFFFF, 0xFFFF, "Scheduled Study Stop Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,1011) 2024b
    {0x0032, 0x1020, 0xFFFF, 0xFFFF, "Scheduled Study Location", false, true,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0032,1020) 2024b
    {0x0032, 0x1021, 0xFFFF, 0xFFFF, "Scheduled Study Location AE Title", false, true,
     {"X", "", "", "C", "", "", "", "", "", "", ""}},  // (0032,1021) 2024b; 2023b rtnDevIdOpt C|K; 2 rows
    {0x0032, 0x1030, 0xFFFF, 0xFFFF, "Reason for Study", false, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0032,1030) 2024b
    {0x0032, 0x1032, 0xFFFF, 0xFFFF, "Requesting Physician", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0032,1032) 2024b
    {0x0032, 0x1033, 0xFFFF, 0xFFFF, "Requesting Service", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0032,1033) 2024b
    {0x0032, 0x1040, 0xFFFF, 0xFFFF, "Study Arrival Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,1040) 2024b
    {0x0032, 0x1041, 0xFFFF, 0xFFFF, "Study Arrival Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,1041) 2024b
    {0x0032, 0x1050, 0xFFFF, 0xFFFF, "Study Completion Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,1050) 2024b
    {0x0032, 0x1051, 0xFFFF, 0xFFFF, "Study Completion Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0032,1051) 2024b
    {0x0032, 0x1060, 0xFFFF, 0xFFFF, "Requested Procedure Description", true, false,
     {"X/Z", "", "", "", "", "", "", "", "C", "", ""}},  // (0032,1060) 2024b
    {0x0032, 0x1066, 0xFFFF, 0xFFFF, "Reason for Visit", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0032,1066) 2024b
    {0x0032, 0x1067, 0xFFFF, 0xFFFF, "Reason for Visit Code Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0032,1067) 2024b
    {0x0032, 0x1070, 0xFFFF, 0xFFFF, "Requested Contrast Agent", false, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0032,1070) 2024b
    {0x0032, 0x4000, 0xFFFF, 0xFFFF, "Study Comments", false, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0032,4000) 2024b
    {0x0034, 0x0001, 0xFFFF, 0xFFFF, "Flow Identifier Sequence", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0034,0001) 2024b
    {0x0034, 0x0002, 0xFFFF, 0xFFFF, "Flow Identifier", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0034,0002) 2024b
    {0x0034, 0x0005, 0xFFFF, 0xFFFF, "Source Identifier", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0034,0005) 2024b
    {0x0034, 0x0007, 0xFFFF, 0xFFFF, "Frame Origin Timestamp", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0034,0007) 2024b
    {0x0038, 0x0004, 0xFFFF, 0xFFFF, "Referenced Patient Alias Sequence", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0038,0004) 2024b
    {0x0038, 0x0010, 0xFFFF, 0xFFFF, "Admission ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0038,0010) 2024b
    {0x0038, 0x0011, 0xFFFF, 0xFFFF, "Issuer of Admission ID", true, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0038,0011) 2024b
    {0x0038, 0x0014, 0xFFFF, 0xFFFF, "Issuer of Admission ID Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0038,0014) 2024b
    {0x0038, 0x001A, 0xFFFF, 0xFFFF, "Scheduled Admission Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0038,001A) 2024b
    {0x0038, 0x001B, 0xFFFF, 0xFFFF, "Scheduled Admission Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0038,001B) 2024b
    {0x0038, 0x001C, 0xFFFF, 0xFFFF, "Scheduled Discharge Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0038,001C) 2024b
    {0x0038, 0x001D, 0xFFFF, 0xFFFF, "Scheduled Discharge Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0038,001D) 2024b
    {0x0038, 0x001E, 0xFFFF, 0xFFFF, "Scheduled Patient Institution Residence", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0038,001E) 2024b
    {0x0038, 0x0020, 0xFFFF, 0xFFFF, "Admitting Date", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0038,0020) 2024b
    {0x0038, 0x0021, 0xFFFF, 0xFFFF, "Admitting Time", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0038,0021) 2024b
    {0x0038, 0x0030, 0xFFFF, 0xFFFF, "Discharge Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0038,0030) 2024b
    {0x0038, 0x0032, 0xFFFF, 0xFFFF, "Discharge Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0038,0032) 2024b
    {0x0038, 0x0040, 0xFFFF, 0xFFFF, "Discharge Diagnosis Description", false, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0038,0040) 2024b
    {0x0038, 0x0050, 0xFFFF, 0xFFFF, "Special Needs", false, false,
     {"X", "", "", "", "", "C", "", "", "", "", ""}},  // (0038,0050) 2024b
    {0x0038, 0x0060, 0xFFFF, 0xFFFF, "Service Episode ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0038,0060) 2024b
    {0x0038, 0x0061, 0xFFFF, 0xFFFF, "Issuer of Service Episode ID", true, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0038,0061) 2024b
    {0x0038, 0x0062, 0xFFFF, 0xFFFF, "Service Episode Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0038,0062) 2024b
    {0x0038, 0x0064, 0xFFFF, 0xFFFF, "Issuer of Service Episode ID Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0038,0064) 2024b
    {0x0038, 0x0300, 0xFFFF, 0xFFFF, "Current Patient Location", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0038,0300) 2024b
    {0x0038, 0x0400, 0xFFFF, 0xFFFF, "Patient's Institution Residence", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0038,0400) 2024b
    {0x0038, 0x0500, 0xFFFF, 0xFFFF, "Patient State", false, false,
     {"X", "", "", "", "", "C", "", "", "C", "", ""}},  // (0038,0500) 2024b
    {0x0038, 0x4000, 0xFFFF, 0xFFFF, "Visit Comments", false, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0038,4000) 2024b
    {0x003A, 0x0310, 0xFFFF, 0xFFFF, "Multiplex Group UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (003A,0310) 2024b
    {0x003A, 0x0314, 0xFFFF, 0xFFFF, "Impedance Measurement DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (003A,0314) 2024b
    {0x003A, 0x0329, 0xFFFF, 0xFFFF, "Waveform Filter Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (003A,0329) 2024b
    {0x003A, 0x032B, 0xFFFF, 0xFFFF, "Filter Lookup Table Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (003A,032B) 2024b
    {0x0040, 0x0001, 0xFFFF, 0xFFFF, "Scheduled Station AE Title", false, false,
     {"X", "", "", "C", "", "", "", "", "", "", ""}},  // (0040,0001) 2024b; 2023b rtnDevIdOpt C|K; 2 rows
    {0x0040, 0x0002, 0xFFFF, 0xFFFF, "Scheduled Procedure Step Start Date", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,0002) 2024b
    {0x0040, 0x0003, 0xFFFF, 0xFFFF, "Scheduled Procedure Step Start Time", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,0003) 2024b
    {0x0040, 0x0004, 0xFFFF, 0xFFFF, "Scheduled Procedure Step End Date", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,0004) 2024b
    {0x0040, 0x0005, 0xFFFF, 0xFFFF, "Scheduled Procedure Step End Time", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,0005) 2024b
    {0x0040, 0x0006, 0xFFFF, 0xFFFF, "Scheduled Performing Physician's Name", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,0006) 2024b
    {0x0040, 0x0007, 0xFFFF, 0xFFFF, "Scheduled Procedure Step Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,0007) 2024b
    {0x0040, 0x0009, 0xFFFF, 0xFFFF, "Scheduled Procedure Step ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,0009) 2024b
    {0x0040, 0x000B, 0xFFFF, 0xFFFF, "Scheduled Performing Physician Identification Sequence",
     false, false, {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,000B) 2024b
    {0x0040, 0x0010, 0xFFFF, 0xFFFF, "Scheduled Station Name", false, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0040,0010) 2024b
    {0x0040, 0x0011, 0xFFFF, 0xFFFF, "Scheduled Procedure Step Location", false, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0040,0011) 2024b
    {0x0040, 0x0012, 0xFFFF, 0xFFFF, "Pre-Medication", false, false,
     {"X", "", "", "", "", "C", "", "", "", "", ""}},  // (0040,0012) 2024b
    {0x0040, 0x0241, 0xFFFF, 0xFFFF, "Performed Station AE Title", false, false,
     {"X", "", "", "C", "", "", "", "", "", "", ""}},  // (0040,0241) 2024b; 2023b rtnDevIdOpt C|K; 2 rows
    {0x0040, 0x0242, 0xFFFF, 0xFFFF, "Performed Station Name", false, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0040,0242) 2024b
    {0x0040, 0x0243, 0xFFFF, 0xFFFF, "Performed Location", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,0243) 2024b
    {0x0040, 0x0244, 0xFFFF, 0xFFFF, "Performed Procedure Step Start Date", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,0244) 2024b
    {0x0040, 0x0245, 0xFFFF, 0xFFFF, "Performed Procedure Step Start Time", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,0245) 2024b
    {0x0040, 0x0250, 0xFFFF, 0xFFFF, "Performed Procedure Step End Date", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,0250) 2024b
    {0x0040, 0x0251, 0xFFFF, 0xFFFF, "Performed Procedure Step End Time", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,0251) 2024b
    {0x0040, 0x0253, 0xFFFF, 0xFFFF, "Performed Procedure Step ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,0253) 2024b
    {0x0040, 0x0254, 0xFFFF, 0xFFFF, "Performed Procedure Step Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,0254) 2024b
    {0x0040, 0x0275, 0xFFFF, 0xFFFF, "Request Attributes Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,0275) 2024b
    {0x0040, 0x0280, 0xFFFF, 0xFFFF, "Comments on the Performed Procedure Step", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,0280) 2024b
    {0x0040, 0x0310, 0xFFFF, 0xFFFF, "Comments on Radiation Dose", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,0310) 2024b
    {0x0040, 0x050A, 0xFFFF, 0xFFFF, "Specimen Accession Number", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,050A) 2024b
    {0x0040, 0x0512, 0xFFFF, 0xFFFF, "Container Identifier", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0040,0512) 2024b
    {0x0040, 0x0513, 0xFFFF, 0xFFFF, "Issuer of the Container Identifier Sequence", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0040,0513) 2024b
    {0x0040, 0x051A, 0xFFFF, 0xFFFF, "Container Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,051A) 2024b
    {0x0040, 0x0551, 0xFFFF, 0xFFFF, "Specimen Identifier", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0040,0551) 2024b
    {0x0040, 0x0554, 0xFFFF, 0xFFFF, "Specimen UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0040,0554) 2024b
    {0x0040, 0x0555, 0xFFFF, 0xFFFF, "Acquisition Context Sequence", true, false,
     {"X/Z", "", "", "", "", "", "", "", "", "C", ""}},  // (0040,0555) 2024b
    {0x0040, 0x0562, 0xFFFF, 0xFFFF, "Issuer of the Specimen Identifier Sequence", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0040,0562) 2024b
    {0x0040, 0x0600, 0xFFFF, 0xFFFF, "Specimen Short Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,0600) 2024b
    {0x0040, 0x0602, 0xFFFF, 0xFFFF, "Specimen Detailed Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,0602) 2024b
    {0x0040, 0x0610, 0xFFFF, 0xFFFF, "Specimen Preparation Sequence", true, false,
     {"Z", "", "", "", "", "", "", "", "", "C", ""}},  // (0040,0610) 2024b
    {0x0040, 0x06FA, 0xFFFF, 0xFFFF, "Slide Identifier", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,06FA) 2024b
    {0x0040, 0x1001, 0xFFFF, 0xFFFF, "Requested Procedure ID", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,1001) 2024b
    {0x0040, 0x1002, 0xFFFF, 0xFFFF, "Reason for the Requested Procedure", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,1002) 2024b
    {0x0040, 0x1004, 0xFFFF, 0xFFFF, "Patient Transport Arrangements", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,1004) 2024b
    {0x0040, 0x1005, 0xFFFF, 0xFFFF, "Requested Procedure Location", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,1005) 2024b
    {0x0040, 0x100A, 0xFFFF, 0xFFFF, "Reason for Requested Procedure Code Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,100A) 2024b
    {0x0040, 0x1010, 0xFFFF, 0xFFFF, "Names of Intended Recipients of Results", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,1010) 2024b
    {0x0040, 0x1011, 0xFFFF, 0xFFFF, "Intended Recipients of Results Identification Sequence",
     false, false, {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,1011) 2024b
    {0x0040, 0x1101, 0xFFFF, 0xFFFF, "Person Identification Code Sequence", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0040,1101) 2024b
    {0x0040, 0x1102, 0xFFFF, 0xFFFF, "Person's Address", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,1102) 2024b
    {0x0040, 0x1103, 0xFFFF, 0xFFFF, "Person's Telephone Numbers", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,1103) 2024b
    {0x0040, 0x1104, 0xFFFF, 0xFFFF, "Person's Telecom Information", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,1104) 2024b
    {0x0040, 0x1400, 0xFFFF, 0xFFFF, "Requested Procedure Comments", false, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,1400) 2024b
    {0x0040, 0x2001, 0xFFFF, 0xFFFF, "Reason for the Imaging Service Request", false, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,2001) 2024b
    {0x0040, 0x2004, 0xFFFF, 0xFFFF, "Issue Date of Imaging Service Request", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,2004) 2024b
    {0x0040, 0x2005, 0xFFFF, 0xFFFF, "Issue Time of Imaging Service Request", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,2005) 2024b
    {0x0040, 0x2008, 0xFFFF, 0xFFFF, "Order Entered By", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,2008) 2024b
    {0x0040, 0x2009, 0xFFFF, 0xFFFF, "Order Enterer's Location", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,2009) 2024b
    {0x0040, 0x2010, 0xFFFF, 0xFFFF, "Order Callback Phone Number", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,2010) 2024b
    {0x0040, 0x2011, 0xFFFF, 0xFFFF, "Order Callback Telecom Information", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,2011) 2024b
    {0x0040, 0x2016, 0xFFFF, 0xFFFF, "Placer Order Number / Imaging Service Request", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0040,2016) 2024b
    {0x0040, 0x2017, 0xFFFF, 0xFFFF, "Filler Order Number / Imaging Service Request", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0040,2017) 2024b
    {0x0040, 0x2400, 0xFFFF, 0xFFFF, "Imaging Service Request Comments", false, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0040,2400) 2024b
    {0x0040, 0x3001, 0xFFFF, 0xFFFF, "Confidentiality Constraint on Patient Data Description",
     false, false, {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,3001) 2024b
    {0x0040, 0x4005, 0xFFFF, 0xFFFF, "Scheduled Procedure Step Start DateTime", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,4005) 2024b
    {0x0040, 0x4008, 0xFFFF, 0xFFFF, "Scheduled Procedure Step Expiration DateTime", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,4008) 2024b
    {0x0040, 0x4010, 0xFFFF, 0xFFFF, "Scheduled Procedure Step Modification DateTime", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,4010) 2024b
    {0x0040, 0x4011, 0xFFFF, 0xFFFF, "Expected Completion DateTime", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,4011) 2024b
    {0x0040, 0x4023, 0xFFFF, 0xFFFF,
     "Referenced General Purpose Scheduled Procedure Step Transaction UID", false, true,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0040,4023) 2024b
    {0x0040, 0x4025, 0xFFFF, 0xFFFF, "Scheduled Station Name Code Sequence", false, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0040,4025) 2024b
    {0x0040, 0x4027, 0xFFFF, 0xFFFF, "Scheduled Station Geographic Location Code Sequence",
     false, false, {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0040,4027) 2024b
    {0x0040, 0x4028, 0xFFFF, 0xFFFF, "Performed Station Name Code Sequence", false, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0040,4028) 2024b
    {0x0040, 0x4030, 0xFFFF, 0xFFFF, "Performed Station Geographic Location Code Sequence",
     false, false, {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0040,4030) 2024b
    {0x0040, 0x4034, 0xFFFF, 0xFFFF, "Scheduled Human Performers Sequence", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,4034) 2024b
    {0x0040, 0x4035, 0xFFFF, 0xFFFF, "Actual Human Performers Sequence", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,4035) 2024b
    {0x0040, 0x4036, 0xFFFF, 0xFFFF, "Human Performer's Organization", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,4036) 2024b
    {0x0040, 0x4037, 0xFFFF, 0xFFFF, "Human Performer's Name", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,4037) 2024b
    {0x0040, 0x4050, 0xFFFF, 0xFFFF, "Performed Procedure Step Start DateTime", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,4050) 2024b
    {0x0040, 0x4051, 0xFFFF, 0xFFFF, "Performed Procedure Step End DateTime", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,4051) 2024b
    {0x0040, 0x4052, 0xFFFF, 0xFFFF, "Procedure Step Cancellation DateTime", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,4052) 2024b
    {0x0040, 0xA023, 0xFFFF, 0xFFFF, "Findings Group Recording Date (Trial)", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A023) 2024b
    {0x0040, 0xA024, 0xFFFF, 0xFFFF, "Findings Group Recording Time (Trial)", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A024) 2024b
    {0x0040, 0xA027, 0xFFFF, 0xFFFF, "Verifying Organization", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A027) 2024b
    {0x0040, 0xA030, 0xFFFF, 0xFFFF, "Verification DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A030) 2024b
    {0x0040, 0xA032, 0xFFFF, 0xFFFF, "Observation DateTime", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A032) 2024b
    {0x0040, 0xA033, 0xFFFF, 0xFFFF, "Observation Start DateTime", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A033) 2024b
    {0x0040, 0xA073, 0xFFFF, 0xFFFF, "Verifying Observer Sequence", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A073) 2024b
    {0x0040, 0xA075, 0xFFFF, 0xFFFF, "Verifying Observer Name", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A075) 2024b
    {0x0040, 0xA078, 0xFFFF, 0xFFFF, "Author Observer Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A078) 2024b
    {0x0040, 0xA07A, 0xFFFF, 0xFFFF, "Participant Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A07A) 2024b
    {0x0040, 0xA07C, 0xFFFF, 0xFFFF, "Custodial Organization Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A07C) 2024b
    {0x0040, 0xA082, 0xFFFF, 0xFFFF, "Participation DateTime", true, false,
     {"Z", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A082) 2024b
    {0x0040, 0xA088, 0xFFFF, 0xFFFF, "Verifying Observer Identification Code Sequence", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A088) 2024b
    {0x0040, 0xA110, 0xFFFF, 0xFFFF, "Date of Document or Verbal Transaction (Trial)", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A110) 2024b
    {0x0040, 0xA112, 0xFFFF, 0xFFFF, "Time of Document Creation or Verbal Transaction (Trial)",
     false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A112) 2024b; 2023b name "Time of Document or Verbal Transaction (Trial)"
    {0x0040, 0xA120, 0xFFFF, 0xFFFF, "DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A120) 2024b
    {0x0040, 0xA121, 0xFFFF, 0xFFFF, "Date", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A121) 2024b
    {0x0040, 0xA122, 0xFFFF, 0xFFFF, "Time", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A122) 2024b
    {0x0040, 0xA123, 0xFFFF, 0xFFFF, "Person Name", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A123) 2024b
    {0x0040, 0xA124, 0xFFFF, 0xFFFF, "UID", true, false,
     {"U", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A124) 2024b
    {0x0040, 0xA13A, 0xFFFF, 0xFFFF, "Referenced DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A13A) 2024b
    {0x0040, 0xA171, 0xFFFF, 0xFFFF, "Observation UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0040,A171) 2024b
    {0x0040, 0xA172, 0xFFFF, 0xFFFF, "Referenced Observation UID (Trial)", false, true,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0040,A172) 2024b
    {0x0040, 0xA192, 0xFFFF, 0xFFFF, "Observation Date (Trial)", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A192) 2024b
    {0x0040, 0xA193, 0xFFFF, 0xFFFF, "Observation Time (Trial)", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,A193) 2024b
    {0x0040, 0xA307, 0xFFFF, 0xFFFF, "Current Observer (Trial)", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A307) 2024b
    {0x0040, 0xA352, 0xFFFF, 0xFFFF, "Verbal Source (Trial)", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A352) 2024b
    {0x0040, 0xA353, 0xFFFF, 0xFFFF, "Address (Trial)", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A353) 2024b
    {0x0040, 0xA354, 0xFFFF, 0xFFFF, "Telephone Number (Trial)", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A354) 2024b
    {0x0040, 0xA358, 0xFFFF, 0xFFFF, "Verbal Source Identifier Code Sequence (Trial)", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0040,A358) 2024b
    {0x0040, 0xA402, 0xFFFF, 0xFFFF, "Observation Subject UID (Trial)", false, true,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0040,A402) 2024b
    {0x0040, 0xA730, 0xFFFF, 0xFFFF, "Content Sequence", true, false,
     {"D", "", "", "", "", "", "", "", "", "C", ""}},  // (0040,A730) 2024b
    {0x0040, 0xDB06, 0xFFFF, 0xFFFF, "Template Version", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,DB06) 2024b
    {0x0040, 0xDB07, 0xFFFF, 0xFFFF, "Template Local Version", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,DB07) 2024b
    {0x0040, 0xDB0C, 0xFFFF, 0xFFFF, "Template Extension Organization UID", false, true,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0040,DB0C) 2024b
    {0x0040, 0xDB0D, 0xFFFF, 0xFFFF, "Template Extension Creator UID", false, true,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0040,DB0D) 2024b
    {0x0040, 0xE004, 0xFFFF, 0xFFFF, "HL7 Document Effective Time", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0040,E004) 2024b
    {0x0042, 0x0011, 0xFFFF, 0xFFFF, "Encapsulated Document", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0042,0011) 2024b
    {0x0044, 0x0004, 0xFFFF, 0xFFFF, "Approval Status DateTime", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0044,0004) 2024b
    {0x0044, 0x000B, 0xFFFF, 0xFFFF, "Product Expiration DateTime", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0044,000B) 2024b
    {0x0044, 0x0010, 0xFFFF, 0xFFFF, "Substance Administration DateTime", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0044,0010) 2024b
    {0x0044, 0x0104, 0xFFFF, 0xFFFF, "Assertion DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0044,0104) 2024b
    {0x0044, 0x0105, 0xFFFF, 0xFFFF, "Assertion Expiration DateTime", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0044,0105) 2024b
    {0x0050, 0x001B, 0xFFFF, 0xFFFF, "Container Component ID", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0050,001B) 2024b
    {0x0050, 0x0020, 0xFFFF, 0xFFFF, "Device Description", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (0050,0020) 2024b
    {0x0050, 0x0021, 0xFFFF, 0xFFFF, "Long Device Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (0050,0021) 2024b
    {0x0062, 0x0021, 0xFFFF, 0xFFFF, "Tracking UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0062,0021) 2024b
    {0x0064, 0x0003, 0xFFFF, 0xFFFF, "Source Frame of Reference UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0064,0003) 2024b
    {0x0068, 0x6226, 0xFFFF, 0xFFFF, "Effective DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0068,6226) 2024b
    {0x0068, 0x6270, 0xFFFF, 0xFFFF, "Information Issue DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0068,6270) 2024b
    {0x006A, 0x0003, 0xFFFF, 0xFFFF, "Annotation Group UID", true, false,
     {"D", "", "K", "", "", "", "", "", "", "", ""}},  // (006A,0003) 2024b
    {0x006A, 0x0005, 0xFFFF, 0xFFFF, "Annotation Group Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (006A,0005) 2024b
    {0x006A, 0x0006, 0xFFFF, 0xFFFF, "Annotation Group Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (006A,0006) 2024b
    {0x0070, 0x0001, 0xFFFF, 0xFFFF, "Graphic Annotation Sequence", true, false,
     {"D", "", "", "", "", "", "", "", "", "", "C"}},  // (0070,0001) 2024b
    {0x0070, 0x0082, 0xFFFF, 0xFFFF, "Presentation Creation Date", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0070,0082) 2024b
    {0x0070, 0x0083, 0xFFFF, 0xFFFF, "Presentation Creation Time", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0070,0083) 2024b
    {0x0070, 0x0084, 0xFFFF, 0xFFFF, "Content Creator's Name", true, false,
     {"Z/D", "", "", "", "", "", "", "", "", "", ""}},  // (0070,0084) 2024b
    {0x0070, 0x0086, 0xFFFF, 0xFFFF, "Content Creator's Identification Code Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0070,0086) 2024b
    {0x0070, 0x031A, 0xFFFF, 0xFFFF, "Fiducial UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0070,031A) 2024b
    {0x0070, 0x1101, 0xFFFF, 0xFFFF, "Presentation Display Collection UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0070,1101) 2024b
    {0x0070, 0x1102, 0xFFFF, 0xFFFF, "Presentation Sequence Collection UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0070,1102) 2024b
    {0x0072, 0x000A, 0xFFFF, 0xFFFF, "Hanging Protocol Creation DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0072,000A) 2024b
    {0x0072, 0x005E, 0xFFFF, 0xFFFF, "Selector AE Value", true, false,
     {"D", "", "", "C", "", "", "", "", "", "", ""}},  // (0072,005E) 2024b
    {0x0072, 0x005F, 0xFFFF, 0xFFFF, "Selector AS Value", true, false,
     {"D", "", "", "", "", "K", "", "", "", "", ""}},  // (0072,005F) 2024b
    {0x0072, 0x0061, 0xFFFF, 0xFFFF, "Selector DA Value", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0072,0061) 2024b
    {0x0072, 0x0063, 0xFFFF, 0xFFFF, "Selector DT Value", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0072,0063) 2024b
    {0x0072, 0x0065, 0xFFFF, 0xFFFF, "Selector OB Value", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0072,0065) 2024b
    {0x0072, 0x0066, 0xFFFF, 0xFFFF, "Selector LO Value", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (0072,0066) 2024b
    {0x0072, 0x0068, 0xFFFF, 0xFFFF, "Selector LT Value", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (0072,0068) 2024b
    {0x0072, 0x006A, 0xFFFF, 0xFFFF, "Selector PN Value", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0072,006A) 2024b
    {0x0072, 0x006B, 0xFFFF, 0xFFFF, "Selector TM Value", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0072,006B) 2024b
    {0x0072, 0x006C, 0xFFFF, 0xFFFF, "Selector SH Value", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (0072,006C) 2024b
    {0x0072, 0x006D, 0xFFFF, 0xFFFF, "Selector UN Value", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0072,006D) 2024b
    {0x0072, 0x006E, 0xFFFF, 0xFFFF, "Selector ST Value", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (0072,006E) 2024b
    {0x0072, 0x0070, 0xFFFF, 0xFFFF, "Selector UT Value", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (0072,0070) 2024b
    {0x0072, 0x0071, 0xFFFF, 0xFFFF, "Selector UR Value", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0072,0071) 2024b
    {0x0074, 0x1234, 0xFFFF, 0xFFFF, "Receiving AE", false, false,
     {"X", "", "", "C", "", "", "", "", "", "", ""}},  // (0074,1234) 2024b
    {0x0074, 0x1236, 0xFFFF, 0xFFFF, "Requesting AE", false, false,
     {"X", "", "", "C", "", "", "", "", "", "", ""}},  // (0074,1236) 2024b
    {0x0088, 0x0140, 0xFFFF, 0xFFFF, "Storage Media File-set UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (0088,0140) 2024b
    {0x0088, 0x0200, 0xFFFF, 0xFFFF, "Icon Image Sequence (see Note 11)", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0088,0200) 2024b; 2023b name "Icon Image Sequence (see Note 12)"
    {0x0088, 0x0904, 0xFFFF, 0xFFFF, "Topic Title", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0088,0904) 2024b
    {0x0088, 0x0906, 0xFFFF, 0xFFFF, "Topic Subject", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0088,0906) 2024b
    {0x0088, 0x0910, 0xFFFF, 0xFFFF, "Topic Author", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0088,0910) 2024b
    {0x0088, 0x0912, 0xFFFF, 0xFFFF, "Topic Keywords", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0088,0912) 2024b
    {0x0100, 0x0420, 0xFFFF, 0xFFFF, "SOP Authorization DateTime", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0100,0420) 2024b
    {0x0400, 0x0100, 0xFFFF, 0xFFFF, "Digital Signature UID", true, false,
     {"U", "", "", "", "", "", "", "", "", "", ""}},  // (0400,0100) 2024b
    {0x0400, 0x0105, 0xFFFF, 0xFFFF, "Digital Signature DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0400,0105) 2024b
    {0x0400, 0x0115, 0xFFFF, 0xFFFF, "Certificate of Signer", true, false,
     {"D", "", "", "", "", "", "", "", "", "", ""}},  // (0400,0115) 2024b
    {0x0400, 0x0310, 0xFFFF, 0xFFFF, "Certified Timestamp", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (0400,0310) 2024b
    {0x0400, 0x0402, 0xFFFF, 0xFFFF, "Referenced Digital Signature Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0400,0402) 2024b
    {0x0400, 0x0403, 0xFFFF, 0xFFFF, "Referenced SOP Instance MAC Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0400,0403) 2024b
    {0x0400, 0x0404, 0xFFFF, 0xFFFF, "MAC", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0400,0404) 2024b
    {0x0400, 0x0550, 0xFFFF, 0xFFFF, "Modified Attributes Sequence", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0400,0550) 2024b
    {0x0400, 0x0551, 0xFFFF, 0xFFFF, "Nonconforming Modified Attributes Sequence", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0400,0551) 2024b
    {0x0400, 0x0552, 0xFFFF, 0xFFFF, "Nonconforming Data Element Value", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0400,0552) 2024b
    {0x0400, 0x0561, 0xFFFF, 0xFFFF, "Original Attributes Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0400,0561) 2024b
    {0x0400, 0x0562, 0xFFFF, 0xFFFF, "Attribute Modification DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (0400,0562) 2024b
    {0x0400, 0x0563, 0xFFFF, 0xFFFF, "Modifying System", true, false,
     {"D", "", "", "K", "", "", "", "", "", "", ""}},  // (0400,0563) 2024b
    {0x0400, 0x0564, 0xFFFF, 0xFFFF, "Source of Previous Values", true, false,
     {"Z", "", "", "", "K", "", "", "", "", "", ""}},  // (0400,0564) 2024b
    {0x0400, 0x0565, 0xFFFF, 0xFFFF, "Reason for the Attribute Modification", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (0400,0565) 2024b
    {0x0400, 0x0600, 0xFFFF, 0xFFFF, "Instance Origin Status", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (0400,0600) 2024b
    {0x2030, 0x0020, 0xFFFF, 0xFFFF, "Text String", false, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (2030,0020) 2024b
    {0x2100, 0x0040, 0xFFFF, 0xFFFF, "Creation Date", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (2100,0040) 2024b
    {0x2100, 0x0050, 0xFFFF, 0xFFFF, "Creation Time", false, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (2100,0050) 2024b
    {0x2100, 0x0070, 0xFFFF, 0xFFFF, "Originator", false, false,
     {"X", "", "", "C", "", "", "", "", "", "", ""}},  // (2100,0070) 2024b
    {0x2100, 0x0140, 0xFFFF, 0xFFFF, "Destination AE", true, false,
     {"D", "", "", "C", "", "", "", "", "", "", ""}},  // (2100,0140) 2024b
    {0x2200, 0x0002, 0xFFFF, 0xFFFF, "Label Text", true, false,
     {"X/Z", "", "", "", "", "", "", "", "C", "", ""}},  // (2200,0002) 2024b
    {0x2200, 0x0005, 0xFFFF, 0xFFFF, "Barcode Value", true, false,
     {"X/Z", "", "", "", "", "", "", "", "", "", ""}},  // (2200,0005) 2024b
    {0x3002, 0x0121, 0xFFFF, 0xFFFF, "Position Acquisition Template Name", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (3002,0121) 2024b
    {0x3002, 0x0123, 0xFFFF, 0xFFFF, "Position Acquisition Template Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (3002,0123) 2024b
    {0x3006, 0x0002, 0xFFFF, 0xFFFF, "Structure Set Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (3006,0002) 2024b
    {0x3006, 0x0004, 0xFFFF, 0xFFFF, "Structure Set Name", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (3006,0004) 2024b
    {0x3006, 0x0006, 0xFFFF, 0xFFFF, "Structure Set Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (3006,0006) 2024b
    {0x3006, 0x0008, 0xFFFF, 0xFFFF, "Structure Set Date", true, false,
     {"Z", "", "", "", "", "", "K", "C", "", "", ""}},  // (3006,0008) 2024b
    {0x3006, 0x0009, 0xFFFF, 0xFFFF, "Structure Set Time", true, false,
     {"Z", "", "", "", "", "", "K", "C", "", "", ""}},  // (3006,0009) 2024b
    {0x3006, 0x0024, 0xFFFF, 0xFFFF, "Referenced Frame of Reference UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (3006,0024) 2024b
    {0x3006, 0x0026, 0xFFFF, 0xFFFF, "ROI Name", true, false,
     {"Z", "", "", "", "", "", "", "", "C", "", ""}},  // (3006,0026) 2024b
    {0x3006, 0x0028, 0xFFFF, 0xFFFF, "ROI Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (3006,0028) 2024b
    {0x3006, 0x002D, 0xFFFF, 0xFFFF, "ROI DateTime", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (3006,002D) 2024b new
    {0x3006, 0x002E, 0xFFFF, 0xFFFF, "ROI Observation DateTime", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (3006,002E) 2024b new
    {0x3006, 0x0038, 0xFFFF, 0xFFFF, "ROI Generation Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (3006,0038) 2024b
    {0x3006, 0x004D, 0xFFFF, 0xFFFF, "ROI Creator Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (3006,004D) 2024b new
    {0x3006, 0x004E, 0xFFFF, 0xFFFF, "ROI Interpreter Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (3006,004E) 2024b new
    {0x3006, 0x0085, 0xFFFF, 0xFFFF, "ROI Observation Label", true, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (3006,0085) 2024b
    {0x3006, 0x0088, 0xFFFF, 0xFFFF, "ROI Observation Description", true, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (3006,0088) 2024b
    {0x3006, 0x00A6, 0xFFFF, 0xFFFF, "ROI Interpreter", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (3006,00A6) 2024b
    {0x3006, 0x00C2, 0xFFFF, 0xFFFF, "Related Frame of Reference UID", false, true,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (3006,00C2) 2024b
    {0x3008, 0x0024, 0xFFFF, 0xFFFF, "Treatment Control Point Date", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3008,0024) 2024b
    {0x3008, 0x0025, 0xFFFF, 0xFFFF, "Treatment Control Point Time", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3008,0025) 2024b
    {0x3008, 0x0054, 0xFFFF, 0xFFFF, "First Treatment Date", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3008,0054) 2024b
    {0x3008, 0x0056, 0xFFFF, 0xFFFF, "Most Recent Treatment Date", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3008,0056) 2024b
    {0x3008, 0x0105, 0xFFFF, 0xFFFF, "Source Serial Number", true, false,
     {"X/Z", "", "", "K", "", "", "", "", "", "", ""}},  // (3008,0105) 2024b
    {0x3008, 0x0162, 0xFFFF, 0xFFFF, "Safe Position Exit Date", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3008,0162) 2024b
    {0x3008, 0x0164, 0xFFFF, 0xFFFF, "Safe Position Exit Time", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3008,0164) 2024b
    {0x3008, 0x0166, 0xFFFF, 0xFFFF, "Safe Position Return Date", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3008,0166) 2024b
    {0x3008, 0x0168, 0xFFFF, 0xFFFF, "Safe Position Return Time", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3008,0168) 2024b
    {0x3008, 0x0250, 0xFFFF, 0xFFFF, "Treatment Date", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3008,0250) 2024b
    {0x3008, 0x0251, 0xFFFF, 0xFFFF, "Treatment Time", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3008,0251) 2024b
    {0x300A, 0x0002, 0xFFFF, 0xFFFF, "RT Plan Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0002) 2024b
    {0x300A, 0x0003, 0xFFFF, 0xFFFF, "RT Plan Name", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0003) 2024b
    {0x300A, 0x0004, 0xFFFF, 0xFFFF, "RT Plan Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0004) 2024b
    {0x300A, 0x0006, 0xFFFF, 0xFFFF, "RT Plan Date", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (300A,0006) 2024b
    {0x300A, 0x0007, 0xFFFF, 0xFFFF, "RT Plan Time", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (300A,0007) 2024b
    {0x300A, 0x000B, 0xFFFF, 0xFFFF, "Treatment Sites", false, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,000B) 2024b
    {0x300A, 0x000E, 0xFFFF, 0xFFFF, "Prescription Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,000E) 2024b
    {0x300A, 0x0013, 0xFFFF, 0xFFFF, "Dose Reference UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (300A,0013) 2024b
    {0x300A, 0x0016, 0xFFFF, 0xFFFF, "Dose Reference Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0016) 2024b
    {0x300A, 0x0072, 0xFFFF, 0xFFFF, "Fraction Group Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0072) 2024b
    {0x300A, 0x0083, 0xFFFF, 0xFFFF, "Referenced Dose Reference UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (300A,0083) 2024b
    {0x300A, 0x00B2, 0xFFFF, 0xFFFF, "Treatment Machine Name", true, false,
     {"X/Z", "", "", "K", "", "", "", "", "", "", ""}},  // (300A,00B2) 2024b
    {0x300A, 0x00C3, 0xFFFF, 0xFFFF, "Beam Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,00C3) 2024b
    {0x300A, 0x00DD, 0xFFFF, 0xFFFF, "Bolus Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,00DD) 2024b
    {0x300A, 0x0196, 0xFFFF, 0xFFFF, "Fixation Device Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0196) 2024b
    {0x300A, 0x01A6, 0xFFFF, 0xFFFF, "Shielding Device Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,01A6) 2024b
    {0x300A, 0x01B2, 0xFFFF, 0xFFFF, "Setup Technique Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,01B2) 2024b
    {0x300A, 0x0216, 0xFFFF, 0xFFFF, "Source Manufacturer", true, false,
     {"X", "", "", "K", "", "", "", "", "", "", ""}},  // (300A,0216) 2024b
    {0x300A, 0x022C, 0xFFFF, 0xFFFF, "Source Strength Reference Date", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (300A,022C) 2024b
    {0x300A, 0x022E, 0xFFFF, 0xFFFF, "Source Strength Reference Time", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (300A,022E) 2024b
    {0x300A, 0x02EB, 0xFFFF, 0xFFFF, "Compensator Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,02EB) 2024b
    {0x300A, 0x0608, 0xFFFF, 0xFFFF, "Treatment Position Group Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0608) 2024b
    {0x300A, 0x0609, 0xFFFF, 0xFFFF, "Treatment Position Group UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (300A,0609) 2024b
    {0x300A, 0x0611, 0xFFFF, 0xFFFF, "RT Accessory Holder Slot ID", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (300A,0611) 2024b
    {0x300A, 0x0615, 0xFFFF, 0xFFFF, "RT Accessory Device Slot ID", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (300A,0615) 2024b
    {0x300A, 0x0619, 0xFFFF, 0xFFFF, "Radiation Dose Identification Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0619) 2024b
    {0x300A, 0x0623, 0xFFFF, 0xFFFF, "Radiation Dose In-Vivo Measurement Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0623) 2024b
    {0x300A, 0x062A, 0xFFFF, 0xFFFF, "RT Tolerance Set Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,062A) 2024b
    {0x300A, 0x0650, 0xFFFF, 0xFFFF, "Patient Setup UID", false, true,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (300A,0650) 2024b
    {0x300A, 0x0676, 0xFFFF, 0xFFFF, "Equipment Frame of Reference Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0676) 2024b
    {0x300A, 0x067C, 0xFFFF, 0xFFFF, "Radiation Generation Mode Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,067C) 2024b
    {0x300A, 0x067D, 0xFFFF, 0xFFFF, "Radiation Generation Mode Description", true, false,
     {"Z", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,067D) 2024b
    {0x300A, 0x0700, 0xFFFF, 0xFFFF, "Treatment Session UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (300A,0700) 2024b
    {0x300A, 0x0734, 0xFFFF, 0xFFFF, "Treatment Tolerance Violation Description", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0734) 2024b
    {0x300A, 0x0736, 0xFFFF, 0xFFFF, "Treatment Tolerance Violation DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (300A,0736) 2024b
    {0x300A, 0x073A, 0xFFFF, 0xFFFF, "Recorded RT Control Point DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (300A,073A) 2024b
    {0x300A, 0x0741, 0xFFFF, 0xFFFF, "Interlock DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (300A,0741) 2024b
    {0x300A, 0x0742, 0xFFFF, 0xFFFF, "Interlock Description", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0742) 2024b
    {0x300A, 0x0760, 0xFFFF, 0xFFFF, "Override DateTime", true, false,
     {"D", "", "", "", "", "", "K", "C", "", "", ""}},  // (300A,0760) 2024b
    {0x300A, 0x0783, 0xFFFF, 0xFFFF, "Interlock Origin Description", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0783) 2024b
    {0x300A, 0x0785, 0xFFFF, 0xFFFF, "Referenced Treatment Position Group UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (300A,0785) 2024b
    {0x300A, 0x078E, 0xFFFF, 0xFFFF,
     "Patient Treatment Preparation Procedure Parameter Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,078E) 2024b
    {0x300A, 0x0792, 0xFFFF, 0xFFFF, "Patient Treatment Preparation Method Description",
     true, false, {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0792) 2024b
    {0x300A, 0x0794, 0xFFFF, 0xFFFF, "Patient Setup Photo Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,0794) 2024b
    {0x300A, 0x079A, 0xFFFF, 0xFFFF, "Displacement Reference Label", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300A,079A) 2024b
    {0x300C, 0x0113, 0xFFFF, 0xFFFF, "Reason for Omission Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (300C,0113) 2024b
    {0x300C, 0x0127, 0xFFFF, 0xFFFF, "Beam Hold Transition DateTime", true, false,
     {"D", "", "", "K", "", "", "K", "C", "", "", ""}},  // (300C,0127) 2024b
    {0x300E, 0x0004, 0xFFFF, 0xFFFF, "Review Date", true, false,
     {"Z", "", "", "", "", "", "K", "C", "", "", ""}},  // (300E,0004) 2024b
    {0x300E, 0x0005, 0xFFFF, 0xFFFF, "Review Time", true, false,
     {"Z", "", "", "", "", "", "K", "C", "", "", ""}},  // (300E,0005) 2024b
    {0x300E, 0x0008, 0xFFFF, 0xFFFF, "Reviewer Name", true, false,
     {"X/Z", "", "", "", "", "", "", "", "", "", ""}},  // (300E,0008) 2024b
    {0x3010, 0x0006, 0xFFFF, 0xFFFF, "Conceptual Volume UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (3010,0006) 2024b
    {0x3010, 0x000B, 0xFFFF, 0xFFFF, "Referenced Conceptual Volume UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (3010,000B) 2024b
    {0x3010, 0x000F, 0xFFFF, 0xFFFF, "Conceptual Volume Combination Description", true, false,
     {"Z", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,000F) 2024b
    {0x3010, 0x0013, 0xFFFF, 0xFFFF, "Constituent Conceptual Volume UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (3010,0013) 2024b
    {0x3010, 0x0015, 0xFFFF, 0xFFFF, "Source Conceptual Volume UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (3010,0015) 2024b
    {0x3010, 0x0017, 0xFFFF, 0xFFFF, "Conceptual Volume Description", true, false,
     {"Z", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0017) 2024b
    {0x3010, 0x001B, 0xFFFF, 0xFFFF, "Device Alternate Identifier", true, false,
     {"Z", "", "", "", "", "", "", "", "", "", ""}},  // (3010,001B) 2024b
    {0x3010, 0x002D, 0xFFFF, 0xFFFF, "Device Label", true, false,
     {"D", "", "", "K", "", "", "", "", "", "", ""}},  // (3010,002D) 2024b
    {0x3010, 0x0031, 0xFFFF, 0xFFFF, "Referenced Fiducials UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (3010,0031) 2024b
    {0x3010, 0x0033, 0xFFFF, 0xFFFF, "User Content Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0033) 2024b
    {0x3010, 0x0034, 0xFFFF, 0xFFFF, "User Content Long Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0034) 2024b
    {0x3010, 0x0035, 0xFFFF, 0xFFFF, "Entity Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0035) 2024b
    {0x3010, 0x0036, 0xFFFF, 0xFFFF, "Entity Name", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0036) 2024b
    {0x3010, 0x0037, 0xFFFF, 0xFFFF, "Entity Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0037) 2024b
    {0x3010, 0x0038, 0xFFFF, 0xFFFF, "Entity Long Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0038) 2024b
    {0x3010, 0x003B, 0xFFFF, 0xFFFF, "RT Treatment Phase UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (3010,003B) 2024b
    {0x3010, 0x0043, 0xFFFF, 0xFFFF, "Manufacturer's Device Identifier", true, false,
     {"Z", "", "", "K", "", "", "", "", "", "", ""}},  // (3010,0043) 2024b
    {0x3010, 0x004C, 0xFFFF, 0xFFFF, "Intended Phase Start Date", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3010,004C) 2024b
    {0x3010, 0x004D, 0xFFFF, 0xFFFF, "Intended Phase End Date", true, false,
     {"X/D", "", "", "", "", "", "K", "C", "", "", ""}},  // (3010,004D) 2024b
    {0x3010, 0x0054, 0xFFFF, 0xFFFF, "RT Prescription Label", true, false,
     {"D", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0054) 2024b
    {0x3010, 0x0056, 0xFFFF, 0xFFFF, "RT Treatment Approach Label", true, false,
     {"X/D", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0056) 2024b
    {0x3010, 0x005A, 0xFFFF, 0xFFFF, "RT Physician Intent Narrative", true, false,
     {"Z", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,005A) 2024b
    {0x3010, 0x005C, 0xFFFF, 0xFFFF, "Reason for Superseding", true, false,
     {"Z", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,005C) 2024b
    {0x3010, 0x0061, 0xFFFF, 0xFFFF, "Prior Treatment Dose Description", true, false,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0061) 2024b
    {0x3010, 0x006E, 0xFFFF, 0xFFFF, "Dosimetric Objective UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (3010,006E) 2024b
    {0x3010, 0x006F, 0xFFFF, 0xFFFF, "Referenced Dosimetric Objective UID", true, false,
     {"U", "", "K", "", "", "", "", "", "", "", ""}},  // (3010,006F) 2024b
    {0x3010, 0x0077, 0xFFFF, 0xFFFF, "Treatment Site", true, false,
     {"X/D", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0077) 2024b
    {0x3010, 0x007A, 0xFFFF, 0xFFFF, "Treatment Technique Notes", true, false,
     {"Z", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,007A) 2024b
    {0x3010, 0x007B, 0xFFFF, 0xFFFF, "Prescription Notes", true, false,
     {"Z", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,007B) 2024b
    {0x3010, 0x007F, 0xFFFF, 0xFFFF, "Fractionation Notes", true, false,
     {"Z", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,007F) 2024b
    {0x3010, 0x0081, 0xFFFF, 0xFFFF, "Prescription Notes Sequence", true, false,
     {"Z", "", "", "", "", "", "", "", "C", "", ""}},  // (3010,0081) 2024b
    {0x3010, 0x0085, 0xFFFF, 0xFFFF, "Intended Fraction Start Time", true, false,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (3010,0085) 2024b
    {0x4000, 0x0010, 0xFFFF, 0xFFFF, "Arbitrary", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4000,0010) 2024b
    {0x4000, 0x4000, 0xFFFF, 0xFFFF, "Text Comments", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4000,4000) 2024b
    {0x4008, 0x0040, 0xFFFF, 0xFFFF, "Results ID", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,0040) 2024b
    {0x4008, 0x0042, 0xFFFF, 0xFFFF, "Results ID Issuer", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,0042) 2024b
    {0x4008, 0x0100, 0xFFFF, 0xFFFF, "Interpretation Recorded Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (4008,0100) 2024b
    {0x4008, 0x0101, 0xFFFF, 0xFFFF, "Interpretation Recorded Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (4008,0101) 2024b
    {0x4008, 0x0102, 0xFFFF, 0xFFFF, "Interpretation Recorder", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,0102) 2024b
    {0x4008, 0x0108, 0xFFFF, 0xFFFF, "Interpretation Transcription Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (4008,0108) 2024b
    {0x4008, 0x0109, 0xFFFF, 0xFFFF, "Interpretation Transcription Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (4008,0109) 2024b
    {0x4008, 0x010A, 0xFFFF, 0xFFFF, "Interpretation Transcriber", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,010A) 2024b
    {0x4008, 0x010B, 0xFFFF, 0xFFFF, "Interpretation Text", false, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (4008,010B) 2024b
    {0x4008, 0x010C, 0xFFFF, 0xFFFF, "Interpretation Author", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,010C) 2024b
    {0x4008, 0x0111, 0xFFFF, 0xFFFF, "Interpretation Approver Sequence", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,0111) 2024b
    {0x4008, 0x0112, 0xFFFF, 0xFFFF, "Interpretation Approval Date", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (4008,0112) 2024b
    {0x4008, 0x0113, 0xFFFF, 0xFFFF, "Interpretation Approval Time", false, true,
     {"X", "", "", "", "", "", "K", "C", "", "", ""}},  // (4008,0113) 2024b
    {0x4008, 0x0114, 0xFFFF, 0xFFFF, "Physician Approving Interpretation", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,0114) 2024b
    {0x4008, 0x0115, 0xFFFF, 0xFFFF, "Interpretation Diagnosis Description", false, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (4008,0115) 2024b
    {0x4008, 0x0118, 0xFFFF, 0xFFFF, "Results Distribution List Sequence", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,0118) 2024b
    {0x4008, 0x0119, 0xFFFF, 0xFFFF, "Distribution Name", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,0119) 2024b
    {0x4008, 0x011A, 0xFFFF, 0xFFFF, "Distribution Address", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,011A) 2024b
    {0x4008, 0x0200, 0xFFFF, 0xFFFF, "Interpretation ID", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,0200) 2024b
    {0x4008, 0x0202, 0xFFFF, 0xFFFF, "Interpretation ID Issuer", false, true,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (4008,0202) 2024b
    {0x4008, 0x0300, 0xFFFF, 0xFFFF, "Impressions", false, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (4008,0300) 2024b
    {0x4008, 0x4000, 0xFFFF, 0xFFFF, "Results Comments", false, true,
     {"X", "", "", "", "", "", "", "", "C", "", ""}},  // (4008,4000) 2024b
    {0x5000, 0x0000, 0xFF00, 0x0000, "Curve Data", false, true,
     {"X", "", "", "", "", "", "", "", "", "", "C"}},  // (50xx,xxxx) 2024b
    {0x6000, 0x3000, 0xFF00, 0xFFFF, "Overlay Data", true, false,
     {"X", "", "", "", "", "", "", "", "", "", "C"}},  // (60xx,3000) 2024b
    {0x6000, 0x4000, 0xFF00, 0xFFFF, "Overlay Comments", false, true,
     {"X", "", "", "", "", "", "", "", "", "", "C"}},  // (60xx,4000) 2024b
    {0xFFFA, 0xFFFA, 0xFFFF, 0xFFFF, "Digital Signatures Sequence", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (FFFA,FFFA) 2024b
    {0xFFFC, 0xFFFC, 0xFFFF, 0xFFFF, "Data Set Trailing Padding", true, false,
     {"X", "", "", "", "", "", "", "", "", "", ""}},  // (FFFC,FFFC) 2024b
};
// clang-format on

const std::size_t kTableSize = std::size(kTable);

// clang-format off
const SafePrivate kSafePrivate[] = {
    {0x0019, 0x0C, "SIEMENS MR HEADER", "B Value"},  // (0019,xx0C) VR IS VM 1
    {0x0019, 0x0D, "SIEMENS MR HEADER", "Diffusion Directionality"},  // (0019,xx0D) VR CS VM 1
    {0x0019, 0x0E, "SIEMENS MR HEADER", "Diffusion Gradient Direction"},  // (0019,xx0E) VR FD VM 3
    {0x0019, 0x23, "GEMS_ACQU_01", "Table Speed [mm/rotation]"},  // (0019,xx23) VR DS VM 1
    {0x0019, 0x24, "GEMS_ACQU_01", "Mid Scan Time [sec]"},  // (0019,xx24) VR DS VM 1
    {0x0019, 0x27, "GEMS_ACQU_01", "Rotation Speed (Gantry Period)"},  // (0019,xx27) VR DS VM 1
    {0x0019, 0x27, "SIEMENS MR HEADER", "B Matrix"},  // (0019,xx27) VR FD VM 6
    {0x0019, 0x9E, "GEMS_ACQU_01", "Internal Pulse Sequence Name"},  // (0019,xx9E) VR LO VM 1
    {0x0025, 0x01, "Philips ST80i", "ST80i Stress Study file data"},  // (0025,xx01) VR OW VM 1
    {0x0025, 0x07, "GEMS_SERS_01", "Images in Series"},  // (0025,xx07) VR SL VM 1
    {0x0043, 0x27, "GEMS_PARM_01",
     "Scan Pitch Ratio in the form \"n.nnn:1\""},  // (0043,xx27) VR SH VM 1
    {0x0043, 0x39, "GEMS_PARM_01", "1stvalue is B Value"},  // (0043,xx39) VR IS VM 4
    {0x0043, 0x6F, "GEMS_PARM_01",
     "Scanner Table Entry + Gradient Coil Selected"},  // (0043,xx6F) VR DS VM 3-4
    {0x0045, 0x01, "GEMS_HELIOS_01", "Number of Macro Rows in Detector"},  // (0045,xx01) VR SS VM 1
    {0x0045, 0x02, "GEMS_HELIOS_01", "Macro width at ISO Center"},  // (0045,xx02) VR FL VM 1
    {0x0099, 0x01, "NQHeader", "Version"},  // (0099,xx01) VR UI VM 1
    {0x0099, 0x02, "NQHeader", "Analyzed Series UID"},  // (0099,xx02) VR UI VM 1
    {0x0099, 0x04, "NQHeader", "Return Code"},  // (0099,xx04) VR SS VM 1
    {0x0099, 0x05, "NQHeader", "Return Message"},  // (0099,xx05) VR LT VM 1
    {0x0099, 0x10, "NQHeader", "MI"},  // (0099,xx10) VR FL VM 1
    {0x0099, 0x20, "NQHeader", "Units"},  // (0099,xx20) VR SH VM 1
    {0x0099, 0x21, "NQHeader", "ICV"},  // (0099,xx21) VR FL VM 1
    {0x00E1, 0x21, "ELSCINT1", "DLP"},  // (00E1,xx21) VR DS VM 1
    {0x00E1, 0x50, "ELSCINT1", "Acquisition Duration"},  // (00E1,xx50) VR DS VM 1
    {0x0119, 0x00, "SIEMENS Ultrasound SC2000",
     "Acoustic Meta Information Version"},  // (0119,xx00) VR LO VM 1
    {0x0119, 0x01, "SIEMENS Ultrasound SC2000",
     "Common Acoustic Meta Information"},  // (0119,xx01) VR OB VM 1
    {0x0119, 0x02, "SIEMENS Ultrasound SC2000", "Multi Stream Sequence"},  // (0119,xx02) VR SQ VM 1
    {0x0119, 0x03, "SIEMENS Ultrasound SC2000",
     "Acoustic Data Sequence"},  // (0119,xx03) VR SQ VM 1
    {0x0119, 0x04, "SIEMENS Ultrasound SC2000",
     "Per Transaction Acoustic Control Information"},  // (0119,xx04) VR OB VM 1
    {0x0119, 0x05, "SIEMENS Ultrasound SC2000", "Acoustic Data Offset"},  // (0119,xx05) VR UL VM 1
    {0x0119, 0x06, "SIEMENS Ultrasound SC2000", "Acoustic Data Length"},  // (0119,xx06) VR UL VM 1
    {0x0119, 0x07, "SIEMENS Ultrasound SC2000", "Footer Offset"},  // (0119,xx07) VR UL VM 1
    {0x0119, 0x08, "SIEMENS Ultrasound SC2000", "Footer Length"},  // (0119,xx08) VR UL VM 1
    {0x0119, 0x09, "SIEMENS Ultrasound SC2000",
     "Acoustic Stream Number"},  // (0119,xx09) VR SS VM 1
    {0x0119, 0x10, "SIEMENS Ultrasound SC2000", "Acoustic Stream Type"},  // (0119,xx10) VR SH VM 1
    {0x0119, 0x11, "SIEMENS Ultrasound SC2000", "Stage Timer Time"},  // (0119,xx11) VR - VM 1
    {0x0119, 0x12, "SIEMENS Ultrasound SC2000", "Stop Watch Time"},  // (0119,xx12) VR - VM 1
    {0x0119, 0x13, "SIEMENS Ultrasound SC2000", "Volume Rate"},  // (0119,xx13) VR IS VM 1
    {0x0119, 0x21, "SIEMENS Ultrasound SC2000", ""},  // (0119,xx21) VR SH VM 1
    {0x0129, 0x00, "SIEMENS Ultrasound SC2000", "MPR View Sequence"},  // (0129,xx00) VR SQ VM 1
    {0x0129, 0x02, "SIEMENS Ultrasound SC2000", "Bookmark UID"},  // (0129,xx02) VR UI VM 1
    {0x0129, 0x03, "SIEMENS Ultrasound SC2000", "Plane Origin Vector"},  // (0129,xx03) VR - VM 1
    {0x0129, 0x04, "SIEMENS Ultrasound SC2000", "Row Vector"},  // (0129,xx04) VR - VM 1
    {0x0129, 0x05, "SIEMENS Ultrasound SC2000", "Column Vector"},  // (0129,xx05) VR - VM 1
    {0x0129, 0x06, "SIEMENS Ultrasound SC2000",
     "Visualization Sequence"},  // (0129,xx06) VR SQ VM 1
    {0x0129, 0x07, "SIEMENS Ultrasound SC2000", "Bookmark UID"},  // (0129,xx07) VR UI VM 1
    {0x0129, 0x08, "SIEMENS Ultrasound SC2000",
     "Visualization Information"},  // (0129,xx08) VR OB VM 1
    {0x0129, 0x09, "SIEMENS Ultrasound SC2000",
     "Application State Sequence"},  // (0129,xx09) VR SQ VM 1
    {0x0129, 0x10, "SIEMENS Ultrasound SC2000",
     "Application State Information"},  // (0129,xx10) VR OB VM 1
    {0x0129, 0x11, "SIEMENS Ultrasound SC2000",
     "Referenced Bookmark Sequence"},  // (0129,xx11) VR SQ VM 1
    {0x0129, 0x12, "SIEMENS Ultrasound SC2000",
     "Referenced Bookmark UID"},  // (0129,xx12) VR UI VM 1
    {0x0129, 0x20, "SIEMENS Ultrasound SC2000",
     "Cine Parameters Sequence"},  // (0129,xx20) VR SQ VM 1
    {0x0129, 0x21, "SIEMENS Ultrasound SC2000",
     "Cine Parameters Schema"},  // (0129,xx21) VR OB VM 1
    {0x0129, 0x22, "SIEMENS Ultrasound SC2000",
     "Values of Cine Parameters"},  // (0129,xx22) VR OB VM 1
    {0x0129, 0x29, "SIEMENS Ultrasound SC2000", ""},  // (0129,xx29) VR OB VM 1
    {0x0129, 0x30, "SIEMENS Ultrasound SC2000", "Raw Data Object Type"},  // (0129,xx30) VR CS VM 1
    {0x0139, 0x01, "SIEMENS Ultrasound SC2000", "Physio Capture ROI"},  // (0139,xx01) VR SL VM 1
    {0x0149, 0x01, "SIEMENS Ultrasound SC2000",
     "Vector of BROI Points"},  // (0149,xx01) VR FD VM 1-n
    {0x0149, 0x02, "SIEMENS Ultrasound SC2000",
     "Start/End Timestamps of Strip Stream"},  // (0149,xx02) VR FD VM 1-n
    {0x0149, 0x03, "SIEMENS Ultrasound SC2000",
     "Timestamps of Visible R-waves"},  // (0149,xx03) VR FD VM 1-n
    {0x0199, 0x01, "NQLeft", "Left Cortical White Matter"},  // (0199,xx01) VR FL VM 1
    {0x0199, 0x02, "NQLeft", "Left Cortical Gray Matter"},  // (0199,xx02) VR FL VM 1
    {0x0199, 0x03, "NQLeft", "Left 3rd Ventricle"},  // (0199,xx03) VR FL VM 1
    {0x0199, 0x04, "NQLeft", "Left 4th Ventricle"},  // (0199,xx04) VR FL VM 1
    {0x0199, 0x05, "NQLeft", "Left 5th Ventricle"},  // (0199,xx05) VR FL VM 1
    {0x0199, 0x06, "NQLeft", "Left Lateral Ventricle"},  // (0199,xx06) VR FL VM 1
    {0x0199, 0x07, "NQLeft", "Left Inferior Lateral Ventricle"},  // (0199,xx07) VR FL VM 1
    {0x0199, 0x08, "NQLeft", "Left Inferior CSF"},  // (0199,xx08) VR FL VM 1
    {0x0199, 0x09, "NQLeft", "Left Cerebellar White Matter"},  // (0199,xx09) VR FL VM 1
    {0x0199, 0x0A, "NQLeft", "Left Cerebellar Gray Matter"},  // (0199,xx0A) VR FL VM 1
    {0x0199, 0x0B, "NQLeft", "Left Hippocampus"},  // (0199,xx0B) VR FL VM 1
    {0x0199, 0x0C, "NQLeft", "Left Amygdala"},  // (0199,xx0C) VR FL VM 1
    {0x0199, 0x0D, "NQLeft", "Left Thalamus"},  // (0199,xx0D) VR FL VM 1
    {0x0199, 0x0E, "NQLeft", "Left Caudate"},  // (0199,xx0E) VR FL VM 1
    {0x0199, 0x0F, "NQLeft", "Left Putamen"},  // (0199,xx0F) VR FL VM 1
    {0x0199, 0x10, "NQLeft", "Left Pallidum"},  // (0199,xx10) VR FL VM 1
    {0x0199, 0x11, "NQLeft", "Left Ventral Diencephalon"},  // (0199,xx11) VR FL VM 1
    {0x0199, 0x12, "NQLeft", "Left Nucleus Accumbens"},  // (0199,xx12) VR FL VM 1
    {0x0199, 0x13, "NQLeft", "Left Brain Stem"},  // (0199,xx13) VR FL VM 1
    {0x0199, 0x14, "NQLeft", "Left Exterior CSF"},  // (0199,xx14) VR FL VM 1
    {0x0199, 0x15, "NQLeft", "Left WM Hypo"},  // (0199,xx15) VR FL VM 1
    {0x0199, 0x16, "NQLeft", "Left Other"},  // (0199,xx16) VR FL VM 1
    {0x01E1, 0x26, "ELSCINT1", "Phantom Type"},  // (01E1,xx26) VR CS VM 1
    {0x01F1, 0x01, "ELSCINT1", "Acquisition Type"},  // (01F1,xx01) VR CS VM 1
    {0x01F1, 0x07, "ELSCINT1", "Table Velocity"},  // (01F1,xx07) VR DS VM 1
    {0x01F1, 0x26, "ELSCINT1", "Pitch"},  // (01F1,xx26) VR DS VM 1
    {0x01F1, 0x27, "ELSCINT1", "Rotation Time"},  // (01F1,xx27) VR DS VM 1
    {0x0299, 0x01, "NQRight", "Right Cortical White Matter"},  // (0299,xx01) VR FL VM 1
    {0x0299, 0x02, "NQRight", "Right Cortical Gray Matter"},  // (0299,xx02) VR FL VM 1
    {0x0299, 0x03, "NQRight", "Right 3rd Ventricle"},  // (0299,xx03) VR FL VM 1
    {0x0299, 0x04, "NQRight", "Right 4th Ventricle"},  // (0299,xx04) VR FL VM 1
    {0x0299, 0x05, "NQRight", "Right 5th Ventricle"},  // (0299,xx05) VR FL VM 1
    {0x0299, 0x06, "NQRight", "Right Lateral Ventricle"},  // (0299,xx06) VR FL VM 1
    {0x0299, 0x07, "NQRight", "Right Inferior Lateral Ventricle"},  // (0299,xx07) VR FL VM 1
    {0x0299, 0x08, "NQRight", "Right Inferior CSF"},  // (0299,xx08) VR FL VM 1
    {0x0299, 0x09, "NQRight", "Right Cerebellar White Matter"},  // (0299,xx09) VR FL VM 1
    {0x0299, 0x0A, "NQRight", "Right Cerebellar Gray Matter"},  // (0299,xx0A) VR FL VM 1
    {0x0299, 0x0B, "NQRight", "Right Hippocampus"},  // (0299,xx0B) VR FL VM 1
    {0x0299, 0x0C, "NQRight", "Right Amygdala"},  // (0299,xx0C) VR FL VM 1
    {0x0299, 0x0D, "NQRight", "Right Thalamus"},  // (0299,xx0D) VR FL VM 1
    {0x0299, 0x0E, "NQRight", "Right Caudate"},  // (0299,xx0E) VR FL VM 1
    {0x0299, 0x0F, "NQRight", "Right Putamen"},  // (0299,xx0F) VR FL VM 1
    {0x0299, 0x10, "NQRight", "Right Pallidum"},  // (0299,xx10) VR FL VM 1
    {0x0299, 0x11, "NQRight", "Right Ventral Diencephalon"},  // (0299,xx11) VR FL VM 1
    {0x0299, 0x12, "NQRight", "Right Nucleus Accumbens"},  // (0299,xx12) VR FL VM 1
    {0x0299, 0x13, "NQRight", "Right Brain Stem"},  // (0299,xx13) VR FL VM 1
    {0x0299, 0x14, "NQRight", "Right Exterior CSF"},  // (0299,xx14) VR FL VM 1
    {0x0299, 0x15, "NQRight", "Right WM Hypo"},  // (0299,xx15) VR FL VM 1
    {0x0299, 0x16, "NQRight", "Right Other"},  // (0299,xx16) VR FL VM 1
    {0x0903, 0x10, "GEIIS PACS", "Reject Image Flag"},  // (0903,xx10) VR US VM 1
    {0x0903, 0x11, "GEIIS PACS", "Significant Flag"},  // (0903,xx11) VR US VM 1
    {0x0903, 0x12, "GEIIS PACS", "Confidential Flag"},  // (0903,xx12) VR US VM 1
    {0x2001, 0x00, "Philips Imaging DD 129",
     "Presentation State Sequence"},  // (2001,xx00) VR SQ VM 1
    {0x2001, 0x01, "Philips Imaging DD 001", "MR Image Chemical Shift"},  // (2001,xx01) VR FL VM 1
    {0x2001, 0x01, "Philips Imaging DD 002", "Edr Setgp"},  // (2001,xx01) VR US VM 1
    {0x2001, 0x01, "Philips Imaging DD 097", "View Geometry"},  // (2001,xx01) VR SQ VM 1
    {0x2001, 0x01, "Philips Imaging DD 129",
     "Embedded Original Presentation State Sequence"},  // (2001,xx01) VR SQ VM 1
    {0x2001, 0x02, "Philips Imaging DD 001",
     "MR Image Chemical Shift Number"},  // (2001,xx02) VR IS VM 1
    {0x2001, 0x02, "Philips Imaging DD 002", "Edr Setsk"},  // (2001,xx02) VR FD VM 1
    {0x2001, 0x02, "Philips Imaging DD 097", "Frame Geometry Origin"},  // (2001,xx02) VR FD VM 3
    {0x2001, 0x02, "Philips Imaging DD 129",
     "Planar Intersection Sequence"},  // (2001,xx02) VR SQ VM 0-1
    {0x2001, 0x03, "Philips Imaging DD 001",
     "MR Image Diffusion B-Factor"},  // (2001,xx03) VR FL VM 1
    {0x2001, 0x03, "Philips Imaging DD 002", "Um Rank Type"},  // (2001,xx03) VR CS VM 1
    {0x2001, 0x03, "Philips Imaging DD 097", "Frame Geometry Extent"},  // (2001,xx03) VR FD VM 2
    {0x2001, 0x03, "Philips Imaging DD 129",
     "Plane Separator Line Color"},  // (2001,xx03) VR UL VM 1
    {0x2001, 0x04, "Philips Imaging DD 001",
     "MR Image Diffusion Direction"},  // (2001,xx04) VR CS VM 1
    {0x2001, 0x04, "Philips Imaging DD 002", "Um Rank Number"},  // (2001,xx04) VR SS VM 1
    {0x2001, 0x04, "Philips Imaging DD 097",
     "Frame Geometry Orientation"},  // (2001,xx04) VR FD VM 6
    {0x2001, 0x04, "Philips Imaging DD 129", "Plane Sequence"},  // (2001,xx04) VR SQ VM 1-n
    {0x2001, 0x05, "Philips Imaging DD 001",
     "Graphic Annotation Parent ID"},  // (2001,xx05) VR SS VM 1
    {0x2001, 0x05, "Philips Imaging DD 002", "Um Rank Enhancement"},  // (2001,xx05) VR FD VM 1
    {0x2001, 0x05, "Philips Imaging DD 097", "Visual Sequence"},  // (2001,xx05) VR SQ VM 1-n
    {0x2001, 0x05, "Philips Imaging DD 129", "Plane Equation"},  // (2001,xx05) VR FD VM 4
    {0x2001, 0x06, "Philips Imaging DD 001", "MR Image Enhanced"},  // (2001,xx06) VR CS VM 1
    {0x2001, 0x06, "Philips Imaging DD 002", "Um Kernel Size"},  // (2001,xx06) VR US VM 1
    {0x2001, 0x06, "Philips Imaging DD 097", "Cut Sequence"},  // (2001,xx06) VR SQ VM 0-n
    {0x2001, 0x06, "Philips Imaging DD 129", "Plane Opacity"},  // (2001,xx06) VR FD VM 1
    {0x2001, 0x07, "Philips Imaging DD 001", "MR Image Type Edes"},  // (2001,xx07) VR CS VM 1
    {0x2001, 0x07, "Philips Imaging DD 002", "Um Gamma Type"},  // (2001,xx07) VR CS VM 1
    {0x2001, 0x07, "Philips Imaging DD 097", "Visual Opacity"},  // (2001,xx07) VR FD VM 1
    {0x2001, 0x07, "Philips Imaging DD 129", "Plane Enabled"},  // (2001,xx07) VR CS VM 1
    {0x2001, 0x08, "Philips Imaging DD 001", "MR Image Phase Number"},  // (2001,xx08) VR IS VM 1
    {0x2001, 0x08, "Philips Imaging DD 002", "Um Gamma Angle"},  // (2001,xx08) VR FD VM 1
    {0x2001, 0x08, "Philips Imaging DD 097", "Opacity Map Sequence"},  // (2001,xx08) VR SQ VM 1
    {0x2001, 0x08, "Philips Imaging DD 129", "Plane Selected"},  // (2001,xx08) VR CS VM 1
    {0x2001, 0x09, "Philips Imaging DD 001", "MR Image Prepulse Delay"},  // (2001,xx09) VR FL VM 1
    {0x2001, 0x09, "Philips Imaging DD 002", "Um Gamma Shift"},  // (2001,xx09) VR FD VM 1
    {0x2001, 0x09, "Philips Imaging DD 129", "Plane Highlight Color"},  // (2001,xx09) VR UL VM 1
    {0x2001, 0x0A, "Philips Imaging DD 001", "Image Plane Number"},  // (2001,xx0A) VR IS VM 1
    {0x2001, 0x0A, "Philips Imaging DD 002", "Um Gamma Center"},  // (2001,xx0A) VR FD VM 1
    {0x2001, 0x0A, "Philips Imaging DD 097", "Light Sequence"},  // (2001,xx0A) VR SQ VM 1-n
    {0x2001, 0x0B, "Philips Imaging DD 001", "Image Plane Orientation"},  // (2001,xx0B) VR CS VM 1
    {0x2001, 0x0B, "Philips Imaging DD 002",
     "Drr Contrast Equalization"},  // (2001,xx0B) VR FD VM 1
    {0x2001, 0x0B, "Philips Imaging DD 097", "Color Map Sequence"},  // (2001,xx0B) VR SQ VM 1
    {0x2001, 0x0C, "Philips Imaging DD 001",
     "MR Series Arrhythmia Rejection"},  // (2001,xx0C) VR CS VM 1
    {0x2001, 0x0C, "Philips Imaging DD 002",
     "Drr Contrast Equalization Kernel Size"},  // (2001,xx0C) VR US VM 1
    {0x2001, 0x0D, "Philips Imaging DD 002", "Drr Sharp Lut Type"},  // (2001,xx0D) VR CS VM 1
    {0x2001, 0x0D, "Philips Imaging DD 097", "Visual Threshold"},  // (2001,xx0D) VR FD VM 1
    {0x2001, 0x0E, "Philips Imaging DD 001", "MR Series Cardiac Cycled"},  // (2001,xx0E) VR CS VM 1
    {0x2001, 0x0E, "Philips Imaging DD 002", "Drr Sharpening"},  // (2001,xx0E) VR FD VM 1
    {0x2001, 0x0E, "Philips Imaging DD 097", "Scene Sequence"},  // (2001,xx0E) VR SQ VM 0-n
    {0x2001, 0x0F, "Philips Imaging DD 001",
     "MR Series Cardiac Gate Width"},  // (2001,xx0F) VR SS VM 1
    {0x2001, 0x0F, "Philips Imaging DD 002", "Drr Sharp Kernel Size"},  // (2001,xx0F) VR US VM 1
    {0x2001, 0x0F, "Philips Imaging DD 097", "Frame Geometry Slab"},  // (2001,xx0F) VR FD VM 2
    {0x2001, 0x10, "Philips Imaging DD 001", "MR Series Cardiac Sync"},  // (2001,xx10) VR CS VM 1
    {0x2001, 0x10, "Philips Imaging DD 002", "Drr Window Width"},  // (2001,xx10) VR SS VM 1
    {0x2001, 0x11, "Philips Imaging DD 001",
     "MR Series Diffusion Echo Time"},  // (2001,xx11) VR FL VM 1
    {0x2001, 0x11, "Philips Imaging DD 002", "Drr Window Level"},  // (2001,xx11) VR SS VM 1
    {0x2001, 0x12, "Philips Imaging DD 001", "MR Series Dynamic Series"},  // (2001,xx12) VR CS VM 1
    {0x2001, 0x12, "Philips Imaging DD 002", "Drr Lut Type"},  // (2001,xx12) VR CS VM 1
    {0x2001, 0x12, "Philips Imaging DD 097", "Gradient Map Sequence"},  // (2001,xx12) VR SQ VM 1
    {0x2001, 0x13, "Philips Imaging DD 001", "MR Series Epi Factor"},  // (2001,xx13) VR SL VM 1
    {0x2001, 0x13, "Philips Imaging DD 002", "Unique Processing Mode"},  // (2001,xx13) VR SS VM 1
    {0x2001, 0x14, "Philips Imaging DD 001", "MR Series Nr Of Echoes"},  // (2001,xx14) VR SL VM 1
    {0x2001, 0x14, "Philips Imaging DD 002", "Unique Contrast Balance"},  // (2001,xx14) VR FD VM 1
    {0x2001, 0x15, "Philips Imaging DD 001",
     "MR Series Nr Of Locations"},  // (2001,xx15) VR SS VM 1
    {0x2001, 0x15, "Philips Imaging DD 002", "Unique Center Density"},  // (2001,xx15) VR FD VM 1
    {0x2001, 0x16, "Philips Imaging DD 001",
     "MR Series Nr Of Phase Contrast Directions"},  // (2001,xx16) VR SS VM 1
    {0x2001, 0x16, "Philips Imaging DD 002", "Unique Bright Density"},  // (2001,xx16) VR FD VM 1
    {0x2001, 0x17, "Philips Imaging DD 001", "MR Series Nr Of Phases"},  // (2001,xx17) VR SL VM 1
    {0x2001, 0x17, "Philips Imaging DD 002", "Unique Detail Contrast"},  // (2001,xx17) VR FD VM 1
    {0x2001, 0x17, "Philips Imaging DD 097", "Display Rows"},  // (2001,xx17) VR US VM 1
    {0x2001, 0x18, "Philips Imaging DD 001", "MR Series Nr Of Slices"},  // (2001,xx18) VR SL VM 1
    {0x2001, 0x18, "Philips Imaging DD 002", "Unique Density Curve"},  // (2001,xx18) VR CS VM 1
    {0x2001, 0x18, "Philips Imaging DD 097", "Display Columns"},  // (2001,xx18) VR US VM 1
    {0x2001, 0x19, "Philips Imaging DD 001",
     "MR Series Partial Matrix Scanned"},  // (2001,xx19) VR CS VM 1
    {0x2001, 0x19, "Philips Imaging DD 002", "Unique Density Min"},  // (2001,xx19) VR FD VM 1
    {0x2001, 0x19, "Philips Imaging DD 097", "Frame Geometry Type"},  // (2001,xx19) VR LO VM 1
    {0x2001, 0x1A, "Philips Imaging DD 001", "MR Series Pc Velocity"},  // (2001,xx1A) VR FL VM 3
    {0x2001, 0x1A, "Philips Imaging DD 002", "Unique Density Max"},  // (2001,xx1A) VR FD VM 1
    {0x2001, 0x1A, "Philips Imaging DD 097", "Light Intensity"},  // (2001,xx1A) VR FD VM 1
    {0x2001, 0x1B, "Philips Imaging DD 001", "MR Series Prepulse Delay"},  // (2001,xx1B) VR FL VM 1
    {0x2001, 0x1B, "Philips Imaging DD 002", "Unique Gamma"},  // (2001,xx1B) VR FD VM 1
    {0x2001, 0x1B, "Philips Imaging DD 097", "Light Color"},  // (2001,xx1B) VR UL VM 1
    {0x2001, 0x1C, "Philips Imaging DD 001", "MR Series Prepulse Type"},  // (2001,xx1C) VR CS VM 1
    {0x2001, 0x1C, "Philips Imaging DD 002", "Unique Gamma Min"},  // (2001,xx1C) VR FD VM 1
    {0x2001, 0x1C, "Philips Imaging DD 097", "Light Origin"},  // (2001,xx1C) VR FD VM 3
    {0x2001, 0x1D, "Philips Imaging DD 001",
     "MR Series Reconstruction Number"},  // (2001,xx1D) VR IS VM 1
    {0x2001, 0x1D, "Philips Imaging DD 002", "Unique Gamma Max"},  // (2001,xx1D) VR FD VM 1
    {0x2001, 0x1D, "Philips Imaging DD 097", "Light Direction"},  // (2001,xx1D) VR FD VM 3
    {0x2001, 0x1E, "Philips Imaging DD 001",
     "MR Series Reformat Accuracy"},  // (2001,xx1E) VR CS VM 1
    {0x2001, 0x1E, "Philips Imaging DD 002",
     "Unique Structure Preference"},  // (2001,xx1E) VR FD VM 1
    {0x2001, 0x1E, "Philips Imaging DD 097", "Color Map Samples"},  // (2001,xx1E) VR FD VM 4-n
    {0x2001, 0x1F, "Philips Imaging DD 001",
     "MR Series Respiration Sync"},  // (2001,xx1F) VR CS VM 1
    {0x2001, 0x1F, "Philips Imaging DD 002", "Unique Noise Limit"},  // (2001,xx1F) VR FD VM 1
    {0x2001, 0x1F, "Philips Imaging DD 097", "Opacity Map Samples"},  // (2001,xx1F) VR FD VM 2-n
    {0x2001, 0x20, "Philips Imaging DD 002", "Unique Noise Band"},  // (2001,xx20) VR FD VM 1
    {0x2001, 0x21, "Philips Imaging DD 001",
     "MR Series Sel Part Inversion Recovery"},  // (2001,xx21) VR CS VM 1
    {0x2001, 0x21, "Philips Imaging DD 002", "Unique Noise Step"},  // (2001,xx21) VR FD VM 1
    {0x2001, 0x21, "Philips Imaging DD 097", "Visual Color"},  // (2001,xx21) VR UL VM 1
    {0x2001, 0x22, "Philips Imaging DD 001",
     "MR Series Water Fat Shift"},  // (2001,xx22) VR FL VM 1
    {0x2001, 0x22, "Philips Imaging DD 002",
     "Unique Noise Compensation"},  // (2001,xx22) VR FD VM 1
    {0x2001, 0x22, "Philips Imaging DD 097", "Illumination Ambient"},  // (2001,xx22) VR FD VM 1
    {0x2001, 0x23, "Philips Imaging DD 001", "MR Series Flip Angle"},  // (2001,xx23) VR DS VM 1
    {0x2001, 0x23, "Philips Imaging DD 002", "Unique Structure Boost"},  // (2001,xx23) VR FD VM 1
    {0x2001, 0x23, "Philips Imaging DD 097", "Illumination Diffuse"},  // (2001,xx23) VR FD VM 1
    {0x2001, 0x24, "Philips Imaging DD 001", "MR Series Is Interactive"},  // (2001,xx24) VR CS VM 1
    {0x2001, 0x24, "Philips Imaging DD 002",
     "Unique Strong Contrast Limit"},  // (2001,xx24) VR FD VM 1
    {0x2001, 0x24, "Philips Imaging DD 097", "Illumination Specular"},  // (2001,xx24) VR FD VM 1
    {0x2001, 0x25, "Philips Imaging DD 001",
     "MR Series Echo Time Display"},  // (2001,xx25) VR SH VM 1
    {0x2001, 0x25, "Philips Imaging DD 002",
     "Unique Strong Contrast Factor"},  // (2001,xx25) VR FD VM 1
    {0x2001, 0x25, "Philips Imaging DD 097",
     "Illumination Specular Power"},  // (2001,xx25) VR FD VM 1
    {0x2001, 0x26, "Philips Imaging DD 001",
     "Presentation State Subtraction Active"},  // (2001,xx26) VR CS VM 1
    {0x2001, 0x26, "Philips Imaging DD 002",
     "Unique Structure Boost Offset"},  // (2001,xx26) VR FD VM 1
    {0x2001, 0x26, "Philips Imaging DD 097", "Depth Cue Begin"},  // (2001,xx26) VR FD VM 1
    {0x2001, 0x27, "Philips Imaging DD 001",
     "Edge Enhancement Kernel Size"},  // (2001,xx27) VR CS VM 1
    {0x2001, 0x27, "Philips Imaging DD 002",
     "Unique Weak Contrast Limit"},  // (2001,xx27) VR FD VM 1
    {0x2001, 0x27, "Philips Imaging DD 097", "Depth Cue Lambda"},  // (2001,xx27) VR FD VM 1
    {0x2001, 0x28, "Philips Imaging DD 001",
     "Edge Enhancement Gain Factor Sub"},  // (2001,xx28) VR FL VM 1
    {0x2001, 0x28, "Philips Imaging DD 002", "Unique Smooth Gain"},  // (2001,xx28) VR US VM 1
    {0x2001, 0x28, "Philips Imaging DD 097", "Depth Cue Function"},  // (2001,xx28) VR LO VM 1
    {0x2001, 0x29, "Philips Imaging DD 001",
     "Edge Enhancement Gain Factor"},  // (2001,xx29) VR FL VM 1
    {0x2001, 0x29, "Philips Imaging DD 002", "Unique Level"},  // (2001,xx29) VR US VM 1
    {0x2001, 0x2A, "Philips Imaging DD 001",
     "Edge Enhancement Taste Adapt Sub"},  // (2001,xx2A) VR CS VM 1
    {0x2001, 0x2A, "Philips Imaging DD 002", "Unique Gain Up Single"},  // (2001,xx2A) VR US VM 1
    {0x2001, 0x2A, "Philips Imaging DD 097", "Cut Set Type"},  // (2001,xx2A) VR LO VM 1
    {0x2001, 0x2B, "Philips Imaging DD 001",
     "Edge Enhancement Taste Adapt"},  // (2001,xx2B) VR CS VM 1
    {0x2001, 0x2B, "Philips Imaging DD 002", "Unique Smh Limit One"},  // (2001,xx2B) VR SS VM 1
    {0x2001, 0x2B, "Philips Imaging DD 097", "Cut Plane Origin"},  // (2001,xx2B) VR FD VM 3
    {0x2001, 0x2C, "Philips Imaging DD 001", "Harmonization Factor"},  // (2001,xx2C) VR FL VM 1
    {0x2001, 0x2C, "Philips Imaging DD 002", "Unique Film Density Min"},  // (2001,xx2C) VR FD VM 1
    {0x2001, 0x2C, "Philips Imaging DD 097", "Cut Plane Normal"},  // (2001,xx2C) VR FD VM 3
    {0x2001, 0x2D, "Philips Imaging DD 001", "Stack Number Of Slices"},  // (2001,xx2D) VR SS VM 1
    {0x2001, 0x2D, "Philips Imaging DD 002", "Unique Film Density Max"},  // (2001,xx2D) VR FD VM 1
    {0x2001, 0x2D, "Philips Imaging DD 097", "Volume Definition Number"},  // (2001,xx2D) VR UL VM 1
    {0x2001, 0x2E, "Philips Imaging DD 001",
     "Harmonization Kernel Size"},  // (2001,xx2E) VR CS VM 1
    {0x2001, 0x2E, "Philips Imaging DD 002", "Unique Version"},  // (2001,xx2E) VR SS VM 1
    {0x2001, 0x2E, "Philips Imaging DD 097", "Volume Mask Sequence"},  // (2001,xx2E) VR SQ VM 0-1
    {0x2001, 0x2F, "Philips Imaging DD 001", "Harmonization Gain"},  // (2001,xx2F) VR FL VM 1
    {0x2001, 0x2F, "Philips Imaging DD 002", "Ranger Version"},  // (2001,xx2F) VR SS VM 1
    {0x2001, 0x2F, "Philips Imaging DD 097", "Volume Mask Data"},  // (2001,xx2F) VR OB VM 1
    {0x2001, 0x30, "Philips Imaging DD 001",
     "Log Subtraction Gain Step Taste"},  // (2001,xx30) VR UL VM 1
    {0x2001, 0x30, "Philips Imaging DD 002", "Ranger Mode"},  // (2001,xx30) VR SS VM 1
    {0x2001, 0x30, "Philips Imaging DD 097", "Volume Mask Offset"},  // (2001,xx30) VR SL VM 3
    {0x2001, 0x31, "Philips Imaging DD 001",
     "Mixing Nr Of Mask Image Numbers"},  // (2001,xx31) VR US VM 1
    {0x2001, 0x31, "Philips Imaging DD 002", "Ranger Field1"},  // (2001,xx31) VR SS VM 1
    {0x2001, 0x31, "Philips Imaging DD 097", "Volume Mask Size"},  // (2001,xx31) VR SL VM 3
    {0x2001, 0x32, "Philips Imaging DD 001", "Stack Radial Angle"},  // (2001,xx32) VR FL VM 1
    {0x2001, 0x32, "Philips Imaging DD 002", "Ranger Field2"},  // (2001,xx32) VR SS VM 1
    {0x2001, 0x32, "Philips Imaging DD 097", "Volume Mask Alignment"},  // (2001,xx32) VR SL VM 2
    {0x2001, 0x33, "Philips Imaging DD 001", "Stack Radial Axis"},  // (2001,xx33) VR CS VM 1
    {0x2001, 0x33, "Philips Imaging DD 002", "Ranger Percentile Key1"},  // (2001,xx33) VR SS VM 1
    {0x2001, 0x34, "Philips Imaging DD 001",
     "Mixing Mask Operation Type"},  // (2001,xx34) VR CS VM 1
    {0x2001, 0x34, "Philips Imaging DD 002", "Ranger Percentile Key2"},  // (2001,xx34) VR SS VM 1
    {0x2001, 0x35, "Philips Imaging DD 001", "Stack Slice Number"},  // (2001,xx35) VR SS VM 1
    {0x2001, 0x35, "Philips Imaging DD 002", "Ranger Dose1"},  // (2001,xx35) VR FD VM 1
    {0x2001, 0x36, "Philips Imaging DD 001", "Stack Type"},  // (2001,xx36) VR CS VM 1
    {0x2001, 0x36, "Philips Imaging DD 002", "Ranger Dose2"},  // (2001,xx36) VR FD VM 1
    {0x2001, 0x36, "Philips Imaging DD 097", "Light Anchor"},  // (2001,xx36) VR LO VM 1
    {0x2001, 0x37, "Philips Imaging DD 001", "Mixing Operation Type"},  // (2001,xx37) VR CS VM 1
    {0x2001, 0x37, "Philips Imaging DD 002", "Ranger Manual Dose1"},  // (2001,xx37) VR FD VM 1
    {0x2001, 0x37, "Philips Imaging DD 097", "Cone Geometry Origin"},  // (2001,xx37) VR FD VM 3
    {0x2001, 0x38, "Philips Imaging DD 001", "Overlay Mix Factor"},  // (2001,xx38) VR FL VM 1
    {0x2001, 0x38, "Philips Imaging DD 002", "Ranger Manual Dose2"},  // (2001,xx38) VR FD VM 1
    {0x2001, 0x38, "Philips Imaging DD 097",
     "Cone Geometry Orientation"},  // (2001,xx38) VR FD VM 9
    {0x2001, 0x39, "Philips Imaging DD 001", "Overscan Factor"},  // (2001,xx39) VR FL VM 1
    {0x2001, 0x39, "Philips Imaging DD 002", "Unique Rox Shape"},  // (2001,xx39) VR CS VM 1
    {0x2001, 0x39, "Philips Imaging DD 097",
     "Cone Geometry View Distance"},  // (2001,xx39) VR FD VM 1
    {0x2001, 0x3A, "Philips Imaging DD 001", "Pixel Shift"},  // (2001,xx3A) VR CS VM 1
    {0x2001, 0x3A, "Philips Imaging DD 002", "Ranger Set Sequence"},  // (2001,xx3A) VR SQ VM 1
    {0x2001, 0x3A, "Philips Imaging DD 097",
     "Cone Geometry Slab Extent"},  // (2001,xx3A) VR FD VM 2
    {0x2001, 0x3B, "Philips Imaging DD 001",
     "Pixel Shift Split Line Coordinates"},  // (2001,xx3B) VR FL VM 4
    {0x2001, 0x3B, "Philips Imaging DD 002", "Rox Sequence"},  // (2001,xx3B) VR SQ VM 0-n
    {0x2001, 0x3B, "Philips Imaging DD 097",
     "Cone Geometry Field Of View"},  // (2001,xx3B) VR FD VM 2
    {0x2001, 0x3C, "Philips Imaging DD 001",
     "Pixel Shift Shift Vectora"},  // (2001,xx3C) VR FL VM 2
    {0x2001, 0x3C, "Philips Imaging DD 002",
     "Xray Edge Enhancement Sequence"},  // (2001,xx3C) VR SQ VM 1-n
    {0x2001, 0x3C, "Philips Imaging DD 097", "Intensity Map Sequence"},  // (2001,xx3C) VR SQ VM 1
    {0x2001, 0x3D, "Philips Imaging DD 001", "Contour Fill Color"},  // (2001,xx3D) VR UL VM 1
    {0x2001, 0x3D, "Philips Imaging DD 002", "Edr Lut Sequence"},  // (2001,xx3D) VR SQ VM 0-1
    {0x2001, 0x3D, "Philips Imaging DD 097", "Intensity Map Samples"},  // (2001,xx3D) VR FD VM 1-n
    {0x2001, 0x3E, "Philips Imaging DD 001",
     "Pixel Shift Shift Vectorb"},  // (2001,xx3E) VR FL VM 2
    {0x2001, 0x3E, "Philips Imaging DD 002", "Unique Dose Decades"},  // (2001,xx3E) VR SS VM 1
    {0x2001, 0x3E, "Philips Imaging DD 097", "Mesh Sequence"},  // (2001,xx3E) VR SQ VM 0-n
    {0x2001, 0x3F, "Philips Imaging DD 001",
     "Displayed Area Zoom Interpolation Meth"},  // (2001,xx3F) VR CS VM 1
    {0x2001, 0x3F, "Philips Imaging DD 002", "Unique Dose Unit"},  // (2001,xx3F) VR SS VM 1
    {0x2001, 0x40, "Philips Imaging DD 001", "Pixel Shift Split Screen"},  // (2001,xx40) VR CS VM 1
    {0x2001, 0x40, "Philips Imaging DD 002", "Unique Density Unit"},  // (2001,xx40) VR SS VM 1
    {0x2001, 0x40, "Philips Imaging DD 097", "Mesh Color"},  // (2001,xx40) VR UL VM 1
    {0x2001, 0x41, "Philips Imaging DD 001",
     "Subtraction Land Marking Factor"},  // (2001,xx41) VR FL VM 1
    {0x2001, 0x41, "Philips Imaging DD 097", "Mesh Draw Style"},  // (2001,xx41) VR LO VM 1
    {0x2001, 0x42, "Philips Imaging DD 001",
     "Subtraction Land Marking Active"},  // (2001,xx42) VR CS VM 1
    {0x2001, 0x42, "Philips Imaging DD 097", "Mesh Section Sequence"},  // (2001,xx42) VR SQ VM 0-n
    {0x2001, 0x43, "Philips Imaging DD 001",
     "Ellips Displ Shut Major Ax Frst End Pnt"},  // (2001,xx43) VR IS VM 2
    {0x2001, 0x44, "Philips Imaging DD 001",
     "Ellips Displ Shut Major Ax Scnd End Pnt"},  // (2001,xx44) VR IS VM 2
    {0x2001, 0x44, "Philips Imaging DD 097",
     "Mesh Section Vertex Connectivity"},  // (2001,xx44) VR LO VM 1
    {0x2001, 0x45, "Philips Imaging DD 001",
     "Ellips Displ Shut Other Ax Frst End Pnt"},  // (2001,xx45) VR IS VM 2
    {0x2001, 0x45, "Philips Imaging DD 097", "Mesh Section Vertex Size"},  // (2001,xx45) VR SL VM 1
    {0x2001, 0x46, "Philips Imaging DD 001", "Graphic Line Style"},  // (2001,xx46) VR CS VM 1
    {0x2001, 0x46, "Philips Imaging DD 097",
     "Mesh Section Vertex Format"},  // (2001,xx46) VR LO VM 1
    {0x2001, 0x47, "Philips Imaging DD 001", "Graphic Line Width"},  // (2001,xx47) VR FL VM 1
    {0x2001, 0x47, "Philips Imaging DD 097",
     "Mesh Section Vertex Data"},  // (2001,xx47) VR OB VM 1-n
    {0x2001, 0x48, "Philips Imaging DD 001", "Graphic Annotation Id"},  // (2001,xx48) VR SS VM 1
    {0x2001, 0x49, "Philips Imaging DD 001", "Trace First Image"},  // (2001,xx49) VR IS VM 1
    {0x2001, 0x49, "Philips Imaging DD 097",
     "Referenced Volume Definition Sequence"},  // (2001,xx49) VR SQ VM 1
    {0x2001, 0x4A, "Philips Imaging DD 001", "Trace Taste"},  // (2001,xx4A) VR CS VM 1
    {0x2001, 0x4A, "Philips Imaging DD 097",
     "Mesh Section Index Data"},  // (2001,xx4A) VR OB VM 1-n
    {0x2001, 0x4B, "Philips Imaging DD 001", "Interpolation Method"},  // (2001,xx4B) VR CS VM 1
    {0x2001, 0x4B, "Philips Imaging DD 097", "Mesh Section Index Size"},  // (2001,xx4B) VR SL VM 1
    {0x2001, 0x4C, "Philips Imaging DD 001",
     "Poly Line Begin Point Style"},  // (2001,xx4C) VR CS VM 1
    {0x2001, 0x4C, "Philips Imaging DD 097", "Shutter Interaction Type"},  // (2001,xx4C) VR LO VM 1
    {0x2001, 0x4D, "Philips Imaging DD 001",
     "Poly Line End Point Style"},  // (2001,xx4D) VR CS VM 1
    {0x2001, 0x4E, "Philips Imaging DD 001", "Window Smoothing Taste"},  // (2001,xx4E) VR CS VM 1
    {0x2001, 0x4F, "Philips Imaging DD 001", "Harmonization Offset"},  // (2001,xx4F) VR FD VM 1
    {0x2001, 0x50, "Philips Imaging DD 001", "Graphic Marker Type"},  // (2001,xx50) VR LO VM 1
    {0x2001, 0x50, "Philips Imaging DD 002", "Workflow Status"},  // (2001,xx50) VR CS VM 1
    {0x2001, 0x51, "Philips Imaging DD 001", "Overlay Plane Id"},  // (2001,xx51) VR IS VM 1
    {0x2001, 0x52, "Philips Imaging DD 002", "Workflow Step Id"},  // (2001,xx52) VR LO VM 1
    {0x2001, 0x53, "Philips Imaging DD 001",
     "Presentation Gl Trafo Invert"},  // (2001,xx53) VR CS VM 1
    {0x2001, 0x53, "Philips Imaging DD 002", "Workflow Step Status"},  // (2001,xx53) VR CS VM 1
    {0x2001, 0x54, "Philips Imaging DD 001",
     "Contour Fill Transparency"},  // (2001,xx54) VR FL VM 1
    {0x2001, 0x55, "Philips Imaging DD 001", "Graphic Line Color"},  // (2001,xx55) VR UL VM 1
    {0x2001, 0x56, "Philips Imaging DD 001", "Graphic Type"},  // (2001,xx56) VR CS VM 1
    {0x2001, 0x57, "Philips Imaging DD 001", "Log Subtraction Taste"},  // (2001,xx57) VR CS VM 1
    {0x2001, 0x57, "Philips Imaging DD 002",
     "Workflow Step Input Sequence"},  // (2001,xx57) VR SQ VM 0-1
    {0x2001, 0x58, "Philips Imaging DD 001",
     "Series Xray Contrast Transfer Taste"},  // (2001,xx58) VR UL VM 1
    {0x2001, 0x58, "Philips Imaging DD 002",
     "Workflow Step Output Sequence"},  // (2001,xx58) VR SQ VM 0-1
    {0x2001, 0x59, "Philips Imaging DD 001", "Curve Id"},  // (2001,xx59) VR IS VM 1
    {0x2001, 0x5A, "Philips Imaging DD 001", "Graphic Annotation Model"},  // (2001,xx5A) VR ST VM 1
    {0x2001, 0x5A, "Philips Imaging DD 002", "Workflow Step Type"},  // (2001,xx5A) VR LO VM 1
    {0x2001, 0x5C, "Philips Imaging DD 002", "Workflow Id"},  // (2001,xx5C) VR LO VM 1
    {0x2001, 0x5D, "Philips Imaging DD 001", "Measurement Text Units"},  // (2001,xx5D) VR ST VM 1
    {0x2001, 0x5D, "Philips Imaging DD 002",
     "Pixel Data Representation Rows"},  // (2001,xx5D) VR UL VM 1
    {0x2001, 0x5E, "Philips Imaging DD 001", "Measurement Text Type"},  // (2001,xx5E) VR ST VM 1
    {0x2001, 0x5E, "Philips Imaging DD 002",
     "Pixel Data Representation Columns"},  // (2001,xx5E) VR UL VM 1
    {0x2001, 0x5F, "Philips Imaging DD 001", "Stack Sequence"},  // (2001,xx5F) VR SQ VM 1-n
    {0x2001, 0x5F, "Philips Imaging DD 002",
     "Private Dicom Extension Sequence"},  // (2001,xx5F) VR SQ VM 0-1
    {0x2001, 0x60, "Philips Imaging DD 001", "MR Series Nr Of Stacks"},  // (2001,xx60) VR SL VM 1
    {0x2001, 0x61, "Philips Imaging DD 001", "Series Transmitted"},  // (2001,xx61) VR CS VM 1
    {0x2001, 0x62, "Philips Imaging DD 001", "Series Committed"},  // (2001,xx62) VR CS VM 1
    {0x2001, 0x63, "Philips Imaging DD 001", "Examination Source"},  // (2001,xx63) VR CS VM 1
    {0x2001, 0x63, "Philips Imaging DD 002", "Isyntax Reference"},  // (2001,xx63) VR ST VM 1
    {0x2001, 0x64, "Philips Imaging DD 001", "Text Type"},  // (2001,xx64) VR SH VM 1
    {0x2001, 0x64, "Philips Imaging DD 002",
     "Workflow Step Job Params Sequence"},  // (2001,xx64) VR SQ VM 0-1
    {0x2001, 0x65, "Philips Imaging DD 001", "Overlay Plane Sequence"},  // (2001,xx65) VR SQ VM 1-n
    {0x2001, 0x65, "Philips Imaging DD 002", "Preserve Aspect"},  // (2001,xx65) VR CS VM 1
    {0x2001, 0x66, "Philips Imaging DD 001", "Image Curve"},  // (2001,xx66) VR SQ VM 1-n
    {0x2001, 0x66, "Philips Imaging DD 002", "Interpolated"},  // (2001,xx66) VR CS VM 1
    {0x2001, 0x67, "Philips Imaging DD 001",
     "Linear Presentation Gl Trafo Shape Sub"},  // (2001,xx67) VR CS VM 1
    {0x2001, 0x67, "Philips Imaging DD 002", "Error Flag"},  // (2001,xx67) VR LO VM 1
    {0x2001, 0x68, "Philips Imaging DD 001",
     "Modality Gl Trafo Sequence"},  // (2001,xx68) VR SQ VM 1-n
    {0x2001, 0x68, "Philips Imaging DD 002", "Error Message Id"},  // (2001,xx68) VR LO VM 1
    {0x2001, 0x69, "Philips Imaging DD 001",
     "Display Shutter Sequence"},  // (2001,xx69) VR SQ VM 1-n
    {0x2001, 0x6A, "Philips Imaging DD 001",
     "Spatial Transformation Sequence"},  // (2001,xx6A) VR SQ VM 1-n
    {0x2001, 0x6B, "Philips Imaging DD 001",
     "Edge Enhancement Sequence"},  // (2001,xx6B) VR SQ VM 1-n
    {0x2001, 0x6B, "Philips Imaging DD 002", "Suitable For"},  // (2001,xx6B) VR LO VM 0-n
    {0x2001, 0x6D, "Philips Imaging DD 001", "Text Font"},  // (2001,xx6D) VR LO VM 1
    {0x2001, 0x6E, "Philips Imaging DD 001", "Series Type"},  // (2001,xx6E) VR SH VM 1
    {0x2001, 0x6F, "Philips Imaging DD 001", "Mixing Sequence"},  // (2001,xx6F) VR SQ VM 1-n
    {0x2001, 0x71, "Philips Imaging DD 001", "Graphic Constraint"},  // (2001,xx71) VR CS VM 1
    {0x2001, 0x71, "Philips Imaging DD 002", "Submit Mpps Job"},  // (2001,xx71) VR CS VM 1
    {0x2001, 0x72, "Philips Imaging DD 001",
     "Ellips Displ Shut Other Ax Scnd End Pnt"},  // (2001,xx72) VR IS VM 2
    {0x2001, 0x72, "Philips Imaging DD 002",
     "Displayed Area Bottom Right Hand Corner Fraction"},  // (2001,xx72) VR FL VM 2
    {0x2001, 0x73, "Philips Imaging DD 001",
     "Referenced Mask Image Sequence"},  // (2001,xx73) VR SQ VM 1-n
    {0x2001, 0x73, "Philips Imaging DD 002",
     "Displayed Area Top Left Hand Corner Fraction"},  // (2001,xx73) VR FL VM 2
    {0x2001, 0x74, "Philips Imaging DD 001", "Window Center Sub"},  // (2001,xx74) VR DS VM 1-n
    {0x2001, 0x74, "Philips Imaging DD 002", "Interpolation Mode"},  // (2001,xx74) VR LO VM 1
    {0x2001, 0x75, "Philips Imaging DD 001", "Window Width Sub"},  // (2001,xx75) VR DS VM 1-n
    {0x2001, 0x75, "Philips Imaging DD 002",
     "Graphic Annotation Id Reference"},  // (2001,xx75) VR SS VM 0-n
    {0x2001, 0x76, "Philips Imaging DD 001",
     "Presentation State Xray Contrast Transfer Taste"},  // (2001,xx76) VR UL VM 1
    {0x2001, 0x77, "Philips Imaging DD 001", "Gl Trafo Type"},  // (2001,xx77) VR CS VM 1
    {0x2001, 0x79, "Philips Imaging DD 001", "Harmonisation Sequence"},  // (2001,xx79) VR SQ VM 1-n
    {0x2001, 0x7A, "Philips Imaging DD 001", "Window Rounding Factor"},  // (2001,xx7A) VR FL VM 1
    {0x2001, 0x7B, "Philips Imaging DD 001",
     "MR Series Acquisition Number"},  // (2001,xx7B) VR IS VM 1
    {0x2001, 0x7C, "Philips Imaging DD 001", "Frame Number"},  // (2001,xx7C) VR UL VM 1
    {0x2001, 0x7D, "Philips Imaging DD 001", "Frame Pixel Data"},  // (2001,xx7D) VR OW/OB VM 1
    {0x2001, 0x7E, "Philips Imaging DD 001",
     "Edge Enhancement Gain Taste"},  // (2001,xx7E) VR US VM 1
    {0x2001, 0x7F, "Philips Imaging DD 001",
     "Edge Enhancement Gain Taste Sub"},  // (2001,xx7F) VR US VM 1
    {0x2001, 0x80, "Philips Imaging DD 001",
     "Text Anchor Point Alignment"},  // (2001,xx80) VR LO VM 1
    {0x2001, 0x81, "Philips Imaging DD 001",
     "MR Series Nr Of Dynamic Scans"},  // (2001,xx81) VR IS VM 1
    {0x2001, 0x82, "Philips Imaging DD 001",
     "MR Series Echo Train Length"},  // (2001,xx82) VR IS VM 1
    {0x2001, 0x83, "Philips Imaging DD 001",
     "MR Series Imaging Frequency"},  // (2001,xx83) VR DS VM 1
    {0x2001, 0x84, "Philips Imaging DD 001", "MR Series Inversion Time"},  // (2001,xx84) VR DS VM 1
    {0x2001, 0x85, "Philips Imaging DD 001",
     "MR Series Magnetic Field Strength"},  // (2001,xx85) VR DS VM 1
    {0x2001, 0x86, "Philips Imaging DD 001",
     "MR Series Nr Of Phase Encoding Steps"},  // (2001,xx86) VR IS VM 1
    {0x2001, 0x87, "Philips Imaging DD 001", "MR Series Nucleus"},  // (2001,xx87) VR SH VM 1
    {0x2001, 0x88, "Philips Imaging DD 001",
     "MR Series Number Of Averages"},  // (2001,xx88) VR DS VM 1
    {0x2001, 0x89, "Philips Imaging DD 001",
     "MR Series Percent Phase Field Of View"},  // (2001,xx89) VR DS VM 1
    {0x2001, 0x8A, "Philips Imaging DD 001",
     "MR Series Percent Sampling"},  // (2001,xx8A) VR DS VM 1
    {0x2001, 0x8B, "Philips Imaging DD 001",
     "MR Series Transmitting Coil"},  // (2001,xx8B) VR SH VM 1
    {0x2001, 0x8C, "Philips Imaging DD 001", "Needs Processing"},  // (2001,xx8C) VR CS VM 0-n
    {0x2001, 0x90, "Philips Imaging DD 001", "Text Foreground Color"},  // (2001,xx90) VR LO VM 1
    {0x2001, 0x91, "Philips Imaging DD 001", "Text Background Color"},  // (2001,xx91) VR LO VM 1
    {0x2001, 0x92, "Philips Imaging DD 001", "Text Shadow Color"},  // (2001,xx92) VR LO VM 1
    {0x2001, 0x93, "Philips Imaging DD 001", "Text Style"},  // (2001,xx93) VR LO VM 1
    {0x2001, 0x94, "Philips Imaging DD 001",
     "Processing Order Specialization"},  // (2001,xx94) VR LO VM 1
    {0x2001, 0x9A, "Philips Imaging DD 001",
     "Graphic Number Sequence"},  // (2001,xx9A) VR SQ VM 1-n
    {0x2001, 0x9B, "Philips Imaging DD 001", "Graphic Number"},  // (2001,xx9B) VR UL VM 1
    {0x2001, 0x9D, "Philips Imaging DD 001", "Subtraction Type"},  // (2001,xx9D) VR LO VM 1
    {0x2001, 0x9F, "Philips Imaging DD 001",
     "Pixel Processing Kernel Size"},  // (2001,xx9F) VR US VM 2
    {0x2001, 0xA1, "Philips Imaging DD 001", "Is Raw Image"},  // (2001,xxA1) VR CS VM 1
    {0x2001, 0xA1, "Philips Imaging DD 097", "Volume Type"},  // (2001,xxA1) VR CS VM 1-2
    {0x2001, 0xA2, "Philips Imaging DD 001",
     "Log Subtraction Curve Taste"},  // (2001,xxA2) VR US VM 1
    {0x2001, 0xA2, "Philips Imaging DD 097", "Volume Origin"},  // (2001,xxA2) VR FD VM 3
    {0x2001, 0xA3, "Philips Imaging DD 001", "Text Color Foreground"},  // (2001,xxA3) VR UL VM 1
    {0x2001, 0xA3, "Philips Imaging DD 097", "Volume Axis"},  // (2001,xxA3) VR FD VM 9
    {0x2001, 0xA4, "Philips Imaging DD 001", "Text Color Background"},  // (2001,xxA4) VR UL VM 1
    {0x2001, 0xA4, "Philips Imaging DD 097", "Volume Pixel Spacing"},  // (2001,xxA4) VR FD VM 2
    {0x2001, 0xA5, "Philips Imaging DD 001", "Text Color Shadow"},  // (2001,xxA5) VR UL VM 1
    {0x2001, 0xA5, "Philips Imaging DD 097", "Volume Slice Spacing"},  // (2001,xxA5) VR FD VM 1-n
    {0x2001, 0xA6, "Philips Imaging DD 097", "Volume Slices"},  // (2001,xxA6) VR US VM 1
    {0x2001, 0xA8, "Philips Imaging DD 097",
     "Referenced Volume Definition Number"},  // (2001,xxA8) VR IS VM 1-n
    {0x2001, 0xA9, "Philips Imaging DD 097",
     "Linear Modality Gl Trafo Sequence"},  // (2001,xxA9) VR SQ VM 0-n
    {0x2001, 0xAA, "Philips Imaging DD 097", "Volume Slice Offsets"},  // (2001,xxAA) VR FD VM 1-n
    {0x2001, 0xAB, "Philips Imaging DD 097",
     "Number Of Volume Definitions"},  // (2001,xxAB) VR IS VM 1
    {0x2001, 0xC0, "Philips Imaging DD 001", "Content Item Identifier"},  // (2001,xxC0) VR UL VM 1
    {0x2001, 0xC1, "Philips Imaging DD 001", "Nested Object Type Name"},  // (2001,xxC1) VR LO VM 1
    {0x2001, 0xC2, "Philips Imaging DD 001",
     "Subtraction Rescale Factor"},  // (2001,xxC2) VR FD VM 1
    {0x2001, 0xC3, "Philips Imaging DD 001", "Subtraction Offset"},  // (2001,xxC3) VR UL VM 1
    {0x2001, 0xC5, "Philips Imaging DD 001",
     "Mask Image Lut Sequence"},  // (2001,xxC5) VR SQ VM 0-1
    {0x2001, 0xC6, "Philips Imaging DD 001", "Gain Lut Sequence"},  // (2001,xxC6) VR SQ VM 0-1
    {0x2001, 0xC7, "Philips Imaging DD 001",
     "Contrast Image Lut Sequence"},  // (2001,xxC7) VR SQ VM 0-1
    {0x2001, 0xCA, "Philips Imaging DD 001", "Reversed Modality Lut"},  // (2001,xxCA) VR SQ VM 1
    {0x2001, 0xCB, "Philips Imaging DD 001",
     "Redundant Overlay Plane Id"},  // (2001,xxCB) VR IS VM 1
    {0x2001, 0xD0, "Philips Imaging DD 001", "Frame Index Pointer"},  // (2001,xxD0) VR AT VM 1-n
    {0x2001, 0xD1, "Philips Imaging DD 001", "Index Number Vector"},  // (2001,xxD1) VR US VM 1-n
    {0x2001, 0xD2, "Philips Imaging DD 001", "Frame Detector Number"},  // (2001,xxD2) VR US VM 1
    {0x2001, 0xD3, "Philips Imaging DD 001", "Frame Phase Number"},  // (2001,xxD3) VR US VM 1
    {0x2001, 0xD4, "Philips Imaging DD 001", "Frame Rotation Number"},  // (2001,xxD4) VR US VM 1
    {0x2001, 0xD5, "Philips Imaging DD 001", "Frame Rr Interval Number"},  // (2001,xxD5) VR US VM 1
    {0x2001, 0xD6, "Philips Imaging DD 001", "Frame Time Slot Number"},  // (2001,xxD6) VR US VM 1
    {0x2001, 0xD7, "Philips Imaging DD 001", "Frame Slice Number"},  // (2001,xxD7) VR US VM 1
    {0x2001, 0xD8, "Philips Imaging DD 001",
     "Frame Angular View Number"},  // (2001,xxD8) VR US VM 1
    {0x2001, 0xD9, "Philips Imaging DD 001", "Frame Time Slice Number"},  // (2001,xxD9) VR US VM 1
    {0x2001, 0xDA, "Philips Imaging DD 001", "Is Arrowhead"},  // (2001,xxDA) VR CS VM 1
    {0x2001, 0xDB, "Philips Imaging DD 001", "PET Rr Interval Index"},  // (2001,xxDB) VR US VM 1
    {0x2001, 0xDC, "Philips Imaging DD 001", "PET Time Slot Index"},  // (2001,xxDC) VR US VM 1
    {0x2001, 0xDD, "Philips Imaging DD 001", "PET Time Slice Index"},  // (2001,xxDD) VR US VM 1
    {0x2001, 0xDE, "Philips Imaging DD 001", "PET Slice Index"},  // (2001,xxDE) VR US VM 1
    {0x2001, 0xDF, "Philips Imaging DD 001", "Voxel Number"},  // (2001,xxDF) VR UL VM 1
    {0x2001, 0xE9, "Philips Imaging DD 001",
     "Per Frame Voxels Functional Group"},  // (2001,xxE9) VR SQ VM 0-n
    {0x2001, 0xF1, "Philips Imaging DD 001",
     "MR Image Prospective Motion Correction"},  // (2001,xxF1) VR FL VM 6
    {0x2001, 0xF2, "Philips Imaging DD 001",
     "MR Image Retrospective Motion Correction"},  // (2001,xxF2) VR FL VM 1-n
    {0x2001, 0xF3, "Philips Imaging DD 001",
     "Dynamic Linear Voigl Trafo"},  // (2001,xxF3) VR CS VM 1
    {0x2001, 0xF4, "Philips Imaging DD 001", "Color Key"},  // (2001,xxF4) VR UL VM 1
    {0x2001, 0xF5, "Philips Imaging DD 001", "Rotated Text Allowed"},  // (2001,xxF5) VR CS VM 1
    {0x2001, 0xF6, "Philips Imaging DD 001",
     "Number Of Represented Images"},  // (2001,xxF6) VR UL VM 1
    {0x2001, 0xF7, "Philips Imaging DD 001", "Data Type Icons"},  // (2001,xxF7) VR LO VM 0-n
    {0x2001, 0xF9, "Philips Imaging DD 001", "Flagging Sequence"},  // (2001,xxF9) VR SQ VM 0-n
    {0x2001, 0xFB, "Philips Imaging DD 001", "Bookmark Sequence"},  // (2001,xxFB) VR SQ VM 0-1
    {0x2001, 0xFC, "Philips Imaging DD 001", "Ris Code Sequence"},  // (2001,xxFC) VR SQ VM 0-1
    {0x2001, 0xFD, "Philips Imaging DD 001", "Workflow Step Sequence"},  // (2001,xxFD) VR SQ VM 0-n
    {0x2001, 0xFF, "Philips Imaging DD 001", "Volume Pixel"},  // (2001,xxFF) VR OW/OB VM 1
    {0x2005, 0x0D, "Philips MR Imaging DD 001", "Scale Intercept"},  // (2005,xx0D) VR FL VM 1
    {0x2005, 0x0E, "Philips MR Imaging DD 001", "Scale Slope"},  // (2005,xx0E) VR FL VM 1
    {0x7053, 0x00, "Philips PET Private Group",
     "SUV Factor - Multiplying Stored Pixel Values by Rescale Slope then this factor results in SUVbw in g/l"},  // (7053,xx00) VR DS VM 1
    {0x7053, 0x09, "Philips PET Private Group",
     "Activity Concentration Factor - Multiplying Stored Pixel Values by Rescale Slope then this factor results in MBq/ml."},  // (7053,xx09) VR DS VM 1
    {0x7E01, 0x01, "HOLOGIC, Inc.", "Codec Version"},  // (7E01,xx01) VR LO VM 1
    {0x7E01, 0x02, "HOLOGIC, Inc.", "Codec Content Type"},  // (7E01,xx02) VR SH VM 1
    {0x7E01, 0x10, "HOLOGIC, Inc.", "High Resolution Data Sequence"},  // (7E01,xx10) VR SQ VM 1
    {0x7E01, 0x11, "HOLOGIC, Inc.", "Low Resolution Data Sequence"},  // (7E01,xx11) VR SQ VM 1
    {0x7E01, 0x12, "HOLOGIC, Inc.", "Codec Content"},  // (7E01,xx12) VR OB VM 1
    {0x7FD1, 0x01, "SIEMENS SYNGO ULTRA-SOUND TOYON DATA STREAMING",
     "Padding"},  // (7FD1,xx01) VR OB VM 1
    {0x7FD1, 0x01, "SIEMENS Ultrasound SC2000",
     "Acoustic Image and Footer Data"},  // (7FD1,xx01) VR OB VM 1
    {0x7FD1, 0x09, "SIEMENS SYNGO ULTRA-SOUND TOYON DATA STREAMING",
     "Version ID"},  // (7FD1,xx09) VR UI VM 1
    {0x7FD1, 0x09, "SIEMENS Ultrasound SC2000", "Volume Version ID"},  // (7FD1,xx09) VR UI VM 1
    {0x7FD1, 0x10, "SIEMENS SYNGO ULTRA-SOUND TOYON DATA STREAMING",
     "Volume Payload"},  // (7FD1,xx10) VR OB VM 1
    {0x7FD1, 0x10, "SIEMENS Ultrasound SC2000", "Volume Payload"},  // (7FD1,xx10) VR OB VM 1
    {0x7FD1, 0x11, "SIEMENS SYNGO ULTRA-SOUND TOYON DATA STREAMING",
     "After Payload"},  // (7FD1,xx11) VR OB VM 1
    {0x7FD1, 0x11, "SIEMENS Ultrasound SC2000", "After Payload"},  // (7FD1,xx11) VR OB VM 1
};
// clang-format on

const std::size_t kSafePrivateSize = std::size(kSafePrivate);

const char* const kTableProvenance =
    "PS3.15 2024b Table E.1-1 (confidentiality-profile-attributes-2024b.json), "
    "2023b Tables E.1-1 (Retd. column, rows absent from 2024b) "
    "and E.3.10-1 (part15-2023b.xml)";

}  // namespace iep::anon
