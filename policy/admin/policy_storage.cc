#include "admin/policy_storage.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace hive::policy::admin {

absl::Status StaleVersion(std::string_view expected, std::string_view current, std::string_view subject) {
  absl::Status s = absl::FailedPreconditionError(absl::StrCat(
      "stale version ", expected.empty() ? "(none)" : absl::StrCat("'", std::string(expected), "'"), ": ",
      std::string(subject), current == kAbsent ? " does not exist now" : absl::StrCat(" is now at version ", std::string(current))));
  s.SetPayload(kCurrentVersionPayload, absl::Cord(std::string(current)));
  return s;
}

absl::StatusOr<std::string> EntryToJson(const hive::admin::v1::HistoryEntry& entry) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (auto s = google::protobuf::util::MessageToJsonString(entry, &json, options); !s.ok()) {
    return absl::InternalError("history entry not serialisable");
  }
  return json;
}

bool EntryFromJson(std::string_view json, hive::admin::v1::HistoryEntry& entry) {
  return google::protobuf::util::JsonStringToMessage(std::string(json), &entry).ok();
}

}  // namespace hive::policy::admin
