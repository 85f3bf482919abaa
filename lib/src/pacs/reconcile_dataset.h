// The DCMTK side of patient ID reconciliation (private to libiep; the rules
// and decisions are in iep/pacs/reconcile.h): reading a patient key from a
// data set or a C-FIND response, and coercing a data set by a decision.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcitem.h>

#include "iep/dicom/dicom_stream.h"
#include "iep/pacs/reconcile.h"

namespace iep::pacs {

// The patient key of a data set (or of a C-FIND response identifier):
// values without padding, Patient's Name converted to UTF-8 from the data
// set's Specific Character Set when DCMTK can (else as stored).
PatientKey patient_key(DcmItem& dataset);

// The same from a file read by iep's bounded reader (dicom_stream.h): the
// few values it needs go into a small DCMTK data set, so that a study's
// instances are not parsed whole by DCMTK to learn who they belong to.
PatientKey patient_key(const dicom::File& file);

// Coerces the data set by a coerce decision: Patient ID, Issuer of Patient
// ID and, when the decision maps it, Accession Number take the local
// values; their previous values (an attribute that was absent with no
// value) go into a new item of Original Attributes Sequence (0400,0561)
// (PS3.3 C.12.1): Modified Attributes Sequence, Attribute Modification
// DateTime, Modifying System, Source of Previous Values, and Reason for the
// Attribute Modification "COERCE". Items already there are kept. The item
// depends only on the decision and the values replaced, so every instance of
// a study gets the same one. Returns false, changing nothing, for keep and
// when every value already is the local one; Error(Exit::internal) for a
// quarantine decision (a study to quarantine must never be stored).
bool apply(DcmItem& dataset, const Decision& decision);

}  // namespace iep::pacs
