#include "anon/anon_rules.h"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace iep::anon {
namespace {

struct Index {
  std::unordered_map<std::uint32_t, const Row*> exact;
  std::vector<const Row*> masked;
  std::unordered_set<std::string> safe;      // "gggg ee creator"
  std::unordered_set<std::string> creators;  // "gggg creator"
};

std::string key(std::uint16_t g, std::string_view creator) {
  char head[8];
  std::snprintf(head, sizeof head, "%04x ", g);
  return std::string(head).append(creator);
}

std::string key(std::uint16_t g, std::uint8_t e, std::string_view creator) {
  char head[16];
  std::snprintf(head, sizeof head, "%04x %02x ", g, e);
  return std::string(head).append(creator);
}

const Index& index() {
  static const Index ix = [] {
    Index ix;
    for (std::size_t i = 0; i < kTableSize; ++i) {
      const Row& row = kTable[i];
      if ((row.group_mask & 1) && (row.group & 1)) continue;  // "gggg is odd": private
      if (row.group_mask == 0xFFFF && row.element_mask == 0xFFFF)
        ix.exact.emplace(std::uint32_t{row.group} << 16 | row.element, &row);
      else
        ix.masked.push_back(&row);
    }
    for (std::size_t i = 0; i < kSafePrivateSize; ++i) {
      const SafePrivate& s = kSafePrivate[i];
      ix.safe.insert(key(s.group, s.element, s.creator));
      ix.creators.insert(key(s.group, s.creator));
    }
    return ix;
  }();
  return ix;
}

}  // namespace

const Row* find_row(std::uint16_t g, std::uint16_t e) {
  const Index& ix = index();
  if (auto it = ix.exact.find(std::uint32_t{g} << 16 | e); it != ix.exact.end()) return it->second;
  for (const Row* r : ix.masked)
    if ((g & r->group_mask) == (r->group & r->group_mask) &&
        (e & r->element_mask) == (r->element & r->element_mask))
      return r;
  return nullptr;
}

std::array<bool, kColumns> enabled_columns(const Profile& p) {
  std::array<bool, kColumns> on{};
  on[kBasic] = true;
  on[kRetainSafePrivate] = p.retain_safe_private;
  on[kRetainUIDs] = p.retain_uids;
  on[kRetainDevice] = p.retain_device_identity;
  on[kRetainInstitution] = p.retain_institution_identity;
  on[kRetainPatientChars] = p.retain_patient_characteristics;
  on[kRetainLongFull] = p.retain_long_full_dates;
  on[kRetainLongModified] = p.retain_long_modified_dates;
  on[kCleanDescriptors] = p.clean_descriptors;
  on[kCleanStructured] = p.clean_structured_content;
  on[kCleanGraphics] = p.clean_graphics;
  return on;
}

std::string_view effective_action(const Row& row, const std::array<bool, kColumns>& on) {
  auto rank = [](std::string_view a) { return a == "K" ? 3 : a == "C" ? 2 : a.empty() ? 0 : 1; };
  std::string_view best;
  for (int c = kBasic + 1; c < kColumns; ++c)
    if (on[c] && rank(row.action[c]) > rank(best)) best = row.action[c];
  return best.empty() ? std::string_view(row.action[kBasic]) : best;
}

bool safe_private(std::uint16_t g, std::uint8_t e, std::string_view creator) {
  return index().safe.count(key(g, e, creator)) != 0;
}

bool safe_creator(std::uint16_t g, std::string_view creator) {
  return index().creators.count(key(g, creator)) != 0;
}

}  // namespace iep::anon
