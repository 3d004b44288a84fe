#include "admin/redis_policy_storage.h"

#include <hiredis/hiredis.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace hive::policy::admin {
namespace {

namespace av1 = hive::admin::v1;

// KEYS: head, v:<version>, seq, history. ARGV: expected ("" = no head),
// version ("" = append only: head and text untouched), text, entry JSON,
// history cap. Reply {1, seq} or {0, current head}.
constexpr char kPublishScript[] = R"lua(
if ARGV[2] ~= '' then
  local head = redis.call('GET', KEYS[1]) or ''
  if head ~= ARGV[1] then return {0, head} end
  redis.call('SET', KEYS[2], ARGV[3])
  redis.call('SET', KEYS[1], ARGV[2])
end
local seq = redis.call('INCR', KEYS[3])
redis.call('LPUSH', KEYS[4], seq .. ' ' .. ARGV[4])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
return {1, tostring(seq)}
)lua";

}  // namespace

RedisPolicyStorage::RedisPolicyStorage(redis::RedisClient& client, std::string key_prefix)
    : client_(client), prefix_(absl::StrCat(key_prefix, ":{policy}:")) {}

absl::StatusOr<std::string> RedisPolicyStorage::HeadVersion() const {
  absl::StatusOr<redis::ReplyPtr> r = client_.Command({"GET", HeadKey()});
  if (!r.ok()) return r.status();
  if ((*r)->type == REDIS_REPLY_NIL) return absl::NotFoundError(absl::StrCat("no policy in ", Describe()));
  return redis::StringOf(r->get());
}

absl::StatusOr<std::string> RedisPolicyStorage::Text(std::string_view version) const {
  absl::StatusOr<redis::ReplyPtr> r = client_.Command({"GET", VersionKey(version)});
  if (!r.ok()) return r.status();
  if ((*r)->type != REDIS_REPLY_STRING) {
    return absl::NotFoundError(absl::StrCat("no version '", std::string(version), "' in ", Describe()));
  }
  return redis::StringOf(r->get());
}

absl::StatusOr<PolicyText> RedisPolicyStorage::Head() const {
  // Two reads, not one snapshot: a version's text never changes, so the
  // text read second is the text of the version read first.
  absl::StatusOr<std::string> version = HeadVersion();
  if (!version.ok()) return version.status();
  absl::StatusOr<std::string> text = Text(*version);
  if (!text.ok()) return text.status();
  return PolicyText{*std::move(version), *std::move(text)};
}

absl::StatusOr<std::uint64_t> RedisPolicyStorage::Publish(const PolicyText& text, std::string_view expected,
                                                          av1::HistoryEntry entry) {
  absl::StatusOr<std::string> json = EntryToJson(entry);
  if (!json.ok()) return json.status();
  const bool append_only = text.version.empty();
  absl::StatusOr<redis::ReplyPtr> r =
      client_.Eval(kPublishScript, {HeadKey(), VersionKey(text.version), prefix_ + "seq", prefix_ + "history"},
                   {std::string(expected), text.version, append_only ? "" : text.yaml, *json,
                    std::to_string(kMaxHistory)});
  if (!r.ok()) return r.status();
  const redisReply* reply = r->get();
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return absl::InternalError("redis: bad publish reply");
  if (redis::IntegerOf(reply->element[0]) == 0) {
    const std::string current = redis::StringOf(reply->element[1]);
    return StaleVersion(expected, current.empty() ? "(none)" : current);
  }
  std::uint64_t seq = 0;
  if (!absl::SimpleAtoi(redis::StringOf(reply->element[1]), &seq)) return absl::InternalError("redis: bad sequence");
  return seq;
}

absl::StatusOr<std::uint64_t> RedisPolicyStorage::Append(av1::HistoryEntry entry) {
  return Publish(PolicyText{}, "", std::move(entry));
}

absl::StatusOr<std::vector<av1::HistoryEntry>> RedisPolicyStorage::History(std::size_t limit) const {
  if (limit == 0) return std::vector<av1::HistoryEntry>{};
  absl::StatusOr<redis::ReplyPtr> r =
      client_.Command({"LRANGE", prefix_ + "history", "0", std::to_string(limit - 1)});
  if (!r.ok()) return r.status();
  std::vector<av1::HistoryEntry> out;
  const redisReply* reply = r->get();
  if (reply->type != REDIS_REPLY_ARRAY) return out;
  for (std::size_t i = 0; i < reply->elements; ++i) {
    const std::string line = redis::StringOf(reply->element[i]);
    const std::size_t space = line.find(' ');
    av1::HistoryEntry entry;
    std::uint64_t seq = 0;
    // An entry somebody wrote by hand and broke is skipped, not fatal.
    if (space == std::string::npos || !absl::SimpleAtoi(line.substr(0, space), &seq) ||
        !EntryFromJson(std::string_view(line).substr(space + 1), entry)) {
      continue;
    }
    entry.set_seq(seq);
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace hive::policy::admin
