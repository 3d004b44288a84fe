#include "admin/shared_fingerprints.h"

#include <hiredis/hiredis.h>

#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hive::policy::admin {
namespace {

// KEYS: meta, list. ARGV: fingerprint, label. Reply: how many are stored.
constexpr char kAddScript[] = R"lua(
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
return redis.call('HLEN', KEYS[2])
)lua";

// KEYS: meta, list. ARGV: fingerprint. Reply {removed 0/1, how many are stored}.
constexpr char kRemoveScript[] = R"lua(
local removed = redis.call('HDEL', KEYS[2], ARGV[1])
if removed == 1 then redis.call('HINCRBY', KEYS[1], 'version', 1) end
return {removed, redis.call('HLEN', KEYS[2])}
)lua";

// KEYS: meta, list. ARGV: fingerprint, label pairs. Reply 1 (stored) or 0
// (a list was there).
constexpr char kSeedScript[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
for i = 1, #ARGV, 1000 do
  redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('HSET', KEYS[1], 'version', 1)
return 1
)lua";

constexpr int kLoadAttempts = 3;

std::string Hex(std::uint64_t fingerprint) { return absl::StrFormat("%016x", fingerprint); }

}  // namespace

SharedFingerprints::SharedFingerprints(redis::RedisClient& client, const std::string& key_prefix)
    : client_(client),
      meta_key_(key_prefix + ":{fingerprints}:meta"),
      list_key_(key_prefix + ":{fingerprints}:list") {}

std::string SharedFingerprints::Describe() const { return absl::StrCat("redis ", client_.Where(), " ", list_key_); }

absl::StatusOr<std::uint64_t> SharedFingerprints::Version() const {
  absl::StatusOr<redis::ReplyPtr> r = client_.Command({"HGET", meta_key_, "version"});
  if (!r.ok()) return r.status();
  std::uint64_t v = 0;
  if ((*r)->type == REDIS_REPLY_STRING) (void)absl::SimpleAtoi(redis::StringOf(r->get()), &v);
  return v;
}

absl::StatusOr<std::size_t> SharedFingerprints::Add(content::FingerprintStore& local, std::uint64_t fingerprint,
                                                    std::string label) {
  if (absl::Status s = content::FingerprintStore::CheckLabel(label); !s.ok()) return s;
  absl::StatusOr<redis::ReplyPtr> r = client_.Eval(kAddScript, {meta_key_, list_key_}, {Hex(fingerprint), label});
  if (!r.ok()) return r.status();
  if (absl::Status s = local.Add(fingerprint, std::move(label)); !s.ok()) return s;
  return static_cast<std::size_t>(redis::IntegerOf(r->get()));
}

absl::StatusOr<SharedFingerprints::Removed> SharedFingerprints::Remove(content::FingerprintStore& local,
                                                                       std::uint64_t fingerprint) {
  absl::StatusOr<redis::ReplyPtr> r = client_.Eval(kRemoveScript, {meta_key_, list_key_}, {Hex(fingerprint)});
  if (!r.ok()) return r.status();
  const redisReply* reply = r->get();
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return absl::InternalError("redis: bad remove reply");
  local.Remove(fingerprint);
  return Removed{redis::IntegerOf(reply->element[0]) == 1, static_cast<std::size_t>(redis::IntegerOf(reply->element[1]))};
}

bool SharedFingerprints::In(const config::PolicySnapshot& snapshot) const {
  return snapshot.content.fingerprints() != nullptr;
}

absl::StatusOr<bool> SharedFingerprints::SeedFrom(const config::PolicySnapshot& snapshot) const {
  const content::FingerprintStore::Entries mine = snapshot.content.fingerprints()->List();
  if (mine.empty()) return false;
  std::vector<std::string> args;
  for (const auto& [fingerprint, label] : mine) {
    args.push_back(Hex(fingerprint));
    args.push_back(label);
  }
  absl::StatusOr<redis::ReplyPtr> r = client_.Eval(kSeedScript, {meta_key_, list_key_}, args);
  if (!r.ok()) return r.status();
  return redis::IntegerOf(r->get()) == 1;
}

absl::StatusOr<SharedObject::Loaded> SharedFingerprints::Load(const config::PolicySnapshot&) const {
  for (int attempt = 0; attempt < kLoadAttempts; ++attempt) {
    absl::StatusOr<std::uint64_t> version = Version();
    if (!version.ok()) return version.status();
    auto list = std::make_shared<content::FingerprintStore::Entries>();
    absl::Status scanned =
        redis::ScanHash(client_, list_key_, 1000, [&](const std::string& field, const std::string& value) {
          std::uint64_t fingerprint = 0;
          std::string label = value;
          // An entry written by hand and broken is left out, not fatal.
          if (absl::SimpleHexAtoi(field, &fingerprint) && content::FingerprintStore::CheckLabel(label).ok() &&
              !label.empty()) {
            list->emplace_back(fingerprint, std::move(label));
          }
        });
    if (!scanned.ok()) return scanned;
    absl::StatusOr<std::uint64_t> after = Version();
    if (!after.ok()) return after.status();
    if (*after != *version) continue;  // a change during the scan: read again
    return Loaded{*version, [list](const config::PolicySnapshot& s) {
                    s.content.fingerprints()->Replace(*list);
                    return absl::OkStatus();
                  }};
  }
  return absl::UnavailableError(absl::StrCat(Describe(), " changed during ", kLoadAttempts, " loads"));
}

}  // namespace hive::policy::admin
