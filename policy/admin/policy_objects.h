// The named objects of a policy document that the admin API addresses one
// by one (limits[], content.rules[], routing.pools[]), their versions, and
// the object-by-object difference of two documents (the history's diffs).
//
// An object's version is the config-version hash of its deterministic
// serialization: it changes exactly when the object does, whatever else in
// the file changes.
//
// Thread-safety: pure functions over caller-owned messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "hive/config/v1/policy_config.pb.h"

namespace hive::policy::admin {

enum class ObjectKind { kLimit, kContentRule, kPool };

std::string_view KindName(ObjectKind kind);  // "limit", "content rule", "pool"

std::string ObjectVersion(const google::protobuf::Message& object);

// The object named `name` or nullptr.
const google::protobuf::Message* FindObject(const hive::config::v1::PolicyConfig& config, ObjectKind kind,
                                            std::string_view name);
// Replaces the object of that name, or appends it. `object` must be of the
// kind's message type.
void PutObject(hive::config::v1::PolicyConfig& config, ObjectKind kind, const google::protobuf::Message& object);
// False when there was none.
bool DeleteObject(hive::config::v1::PolicyConfig& config, ObjectKind kind, std::string_view name);

// "limit per-sender: added", "pool bulk: changed", "content rule X:
// removed", "other settings: changed"; empty when equal.
std::vector<std::string> DiffPolicies(const hive::config::v1::PolicyConfig& before,
                                      const hive::config::v1::PolicyConfig& after);

}  // namespace hive::policy::admin
