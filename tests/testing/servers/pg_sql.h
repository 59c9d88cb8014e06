#pragma once

// Small libpq helpers for tests that check what PostgreSQL holds.

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace noa::testing {

// Rows of one query (text values), or an error string "ERROR ..." in the first cell of a
// single row.
std::vector<std::vector<std::string>> pgQuery(const std::string& conninfo, const std::string& sql);

// "" on success, else the error.
std::string pgExec(const std::string& conninfo, const std::string& sql);

// table -> (row count, md5 of all rows in a stable order): what "identical" means here.
std::map<std::string, std::pair<std::string, std::string>> tableFingerprints(
    const std::string& conninfo);

}  // namespace noa::testing
