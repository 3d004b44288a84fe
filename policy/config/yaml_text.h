// Edits of a config's YAML text that keep everything else byte for byte,
// comments included (a parse and re-render would drop them).
//
// WithoutTopLevelSection(text, "server") removes the line "server:" at
// column 0 and the block under it: the lines after it that are indented or
// blank, up to the next line that starts at column 0 (a key, a comment, a
// document marker). A comment at column 0 therefore stays with what
// follows it. A text without that key comes back unchanged.
#pragma once

#include <string>
#include <string_view>

namespace hive::policy::config {

std::string WithoutTopLevelSection(std::string_view yaml, std::string_view key);

}  // namespace hive::policy::config
