#include "admin/policy_objects.h"

#include <map>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/str_cat.h"
#include "config/snapshot.h"

namespace hive::policy::admin {
namespace {

namespace v1 = hive::config::v1;

std::string Deterministic(const google::protobuf::Message& m) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

// Name -> object for each kind, as a uniform view.
std::map<std::string, const google::protobuf::Message*> ByName(const v1::PolicyConfig& config, ObjectKind kind) {
  std::map<std::string, const google::protobuf::Message*> out;
  switch (kind) {
    case ObjectKind::kLimit:
      for (const v1::LimitRule& o : config.limits()) out[o.name()] = &o;
      break;
    case ObjectKind::kContentRule:
      for (const v1::ContentRule& o : config.content().rules()) out[o.name()] = &o;
      break;
    case ObjectKind::kPool:
      for (const v1::Pool& o : config.routing().pools()) out[o.name()] = &o;
      break;
  }
  return out;
}

// The document without the addressable objects: what "other settings" are.
v1::PolicyConfig WithoutObjects(const v1::PolicyConfig& config) {
  v1::PolicyConfig rest = config;
  rest.clear_limits();
  rest.mutable_content()->clear_rules();
  rest.mutable_routing()->clear_pools();
  return rest;
}

}  // namespace

std::string_view KindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kLimit: return "limit";
    case ObjectKind::kContentRule: return "content rule";
    case ObjectKind::kPool: return "pool";
  }
  return "object";
}

std::string ObjectVersion(const google::protobuf::Message& object) {
  return config::ConfigVersion(Deterministic(object));
}

const google::protobuf::Message* FindObject(const v1::PolicyConfig& config, ObjectKind kind, std::string_view name) {
  const auto all = ByName(config, kind);
  const auto it = all.find(std::string(name));
  return it == all.end() ? nullptr : it->second;
}

namespace {

template <typename T>
void PutTyped(google::protobuf::RepeatedPtrField<T>& list, const google::protobuf::Message& object) {
  T value;
  value.CopyFrom(object);
  for (T& existing : list) {
    if (existing.name() == value.name()) {
      existing = std::move(value);
      return;
    }
  }
  *list.Add() = std::move(value);
}

template <typename T>
bool DeleteTyped(google::protobuf::RepeatedPtrField<T>& list, std::string_view name) {
  for (int i = 0; i < list.size(); ++i) {
    if (list.Get(i).name() == name) {
      list.erase(list.begin() + i);
      return true;
    }
  }
  return false;
}

}  // namespace

void PutObject(v1::PolicyConfig& config, ObjectKind kind, const google::protobuf::Message& object) {
  switch (kind) {
    case ObjectKind::kLimit: return PutTyped(*config.mutable_limits(), object);
    case ObjectKind::kContentRule: return PutTyped(*config.mutable_content()->mutable_rules(), object);
    case ObjectKind::kPool: return PutTyped(*config.mutable_routing()->mutable_pools(), object);
  }
}

bool DeleteObject(v1::PolicyConfig& config, ObjectKind kind, std::string_view name) {
  switch (kind) {
    case ObjectKind::kLimit: return DeleteTyped(*config.mutable_limits(), name);
    case ObjectKind::kContentRule: return DeleteTyped(*config.mutable_content()->mutable_rules(), name);
    case ObjectKind::kPool: return DeleteTyped(*config.mutable_routing()->mutable_pools(), name);
  }
  return false;
}

std::vector<std::string> DiffPolicies(const v1::PolicyConfig& before, const v1::PolicyConfig& after) {
  std::vector<std::string> changes;
  for (ObjectKind kind : {ObjectKind::kLimit, ObjectKind::kContentRule, ObjectKind::kPool}) {
    const auto old_objects = ByName(before, kind);
    const auto new_objects = ByName(after, kind);
    for (const auto& [name, object] : old_objects) {
      const auto it = new_objects.find(name);
      if (it == new_objects.end()) {
        changes.push_back(absl::StrCat(std::string(KindName(kind)), " ", name, ": removed"));
      } else if (ObjectVersion(*object) != ObjectVersion(*it->second)) {
        changes.push_back(absl::StrCat(std::string(KindName(kind)), " ", name, ": changed"));
      }
    }
    for (const auto& [name, object] : new_objects) {
      if (!old_objects.contains(name)) changes.push_back(absl::StrCat(std::string(KindName(kind)), " ", name, ": added"));
    }
  }
  if (Deterministic(WithoutObjects(before)) != Deterministic(WithoutObjects(after))) {
    changes.push_back("other settings: changed");
  }
  return changes;
}

}  // namespace hive::policy::admin
