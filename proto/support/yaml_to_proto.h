// Reads a YAML document into a protobuf message by reflection, so that the
// config files and the admin API share one schema (proto/hive/config/v1).
//
// Strict: an unknown field, a wrong type, an out-of-range number, a bad enum
// name or a duplicate key is an error naming the source, line, column and the
// field path ("policyd.yaml:12:7: limits[0].windows[1].period: ...").
// Conveniences for operators: enum values may be written in lower case
// without their type prefix (failure_mode: tempfail), and
// google.protobuf.Duration fields take "250ms", "2s", "5m", "1h", "1d", "1w".
//
// Thread-safe: pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hive::config {

// Where each field of a loaded file was written, so that checks made after
// loading (a bad regex, a missing pool) can name the line too.
class SourceMap {
 public:
  // "policyd.yaml:12:7" for a field path such as "limits[0].windows[1].period";
  // falls back to the nearest enclosing path, then to the file name.
  std::string Locate(const std::string& field_path) const;
  // Locate(field_path) + ": " + field_path + ": " + problem.
  std::string Describe(const std::string& field_path, const std::string& problem) const;

  void Record(const std::string& field_path, std::string location) {
    locations_[field_path] = std::move(location);
  }
  void SetSource(std::string source) { source_ = std::move(source); }

 private:
  std::string source_;
  std::map<std::string, std::string> locations_;
};

// Clears `out`, then fills it from `yaml_text`. `source_name` prefixes errors.
// When `positions` is given, it receives the location of every field.
absl::Status YamlToProto(std::string_view yaml_text, std::string_view source_name,
                         google::protobuf::Message& out, SourceMap* positions = nullptr);

// Reads the file at `path` and calls YamlToProto with it.
// How a config file writes an enum value: FAILURE_MODE_ACCEPT -> "accept"
// (the reader takes both).
std::string ShortEnumName(const google::protobuf::EnumValueDescriptor& value);

// A config file's bytes, read once; errors name the path (a directory is
// refused: it would read as an empty file).
absl::StatusOr<std::string> ReadConfigFile(const std::string& path);
absl::Status YamlFileToProto(const std::string& path, google::protobuf::Message& out,
                             SourceMap* positions = nullptr);

// "250ms", "2s", "5m", "1h", "1d", "1w" (also "1h30m"); refuses negatives.
absl::StatusOr<google::protobuf::Duration> ParseDuration(std::string_view text);

}  // namespace hive::config
