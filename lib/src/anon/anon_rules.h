// How the tables of anon_table.h apply: the row of a tag, the action a
// profile takes on it, the safe private attributes. Shared by the
// de-identifier (anon.cpp) and the checker (phi.cpp), so they cannot drift.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "anon/anon_table.h"
#include "iep/anon/anon.h"

namespace iep::anon {

// The row of Table E.1-1 for a tag, or nullptr: exact tags first, then the
// masked rows ((50xx,xxxx), (60xx,4000)...) in table order. The row for
// private attributes is not returned: they follow their own rule.
const Row* find_row(std::uint16_t group, std::uint16_t element);

// The columns a profile enables (the basic profile always).
std::array<bool, kColumns> enabled_columns(const Profile& p);

// The action taken on a row: an enabled option's entry replaces the basic
// profile's; among several options the most lenient wins (K, then C, then
// the first other).
std::string_view effective_action(const Row& row, const std::array<bool, kColumns>& on);

// Table E.3.10-1: whether (group, xxEE) of a block reserved by `creator`
// is safe to keep, and whether `creator` has any safe attribute in `group`.
bool safe_private(std::uint16_t group, std::uint8_t element, std::string_view creator);
bool safe_creator(std::uint16_t group, std::string_view creator);

}  // namespace iep::anon
