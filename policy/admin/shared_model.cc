#include "admin/shared_model.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "support/log.h"

namespace hive::policy::admin {
namespace {

// A learn that keeps meeting another replica's learns gives up after this
// many reads (the caller's hivectl says so and can run again). Between
// attempts it waits a random time below 1 ms, 2 ms, 4 ms... (at most 64):
// without it the replica whose learns come back to back wins every time.
constexpr int kLearnAttempts = 16;

void BackOff(int attempt) {
  thread_local std::minstd_rand random(std::random_device{}());
  const int ceiling_us = 1000 << std::min(attempt, 6);
  std::this_thread::sleep_for(std::chrono::microseconds(random() % static_cast<unsigned>(ceiling_us)));
}
constexpr int kLoadAttempts = 3;

// KEYS: meta, tokens. ARGV: expected version, tokenizer_version, flags,
// spam_learns, ham_learns, then token, entry pairs. Reply {1, new version}
// or {0, current version}.
constexpr char kLearnScript[] = R"lua(
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if v ~= tonumber(ARGV[1]) then return {0, v} end
for i = 6, #ARGV, 1000 do
  redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('HSET', KEYS[1], 'version', v + 1, 'tokenizer_version', ARGV[2], 'flags', ARGV[3],
           'spam_learns', ARGV[4], 'ham_learns', ARGV[5])
return {1, v + 1}
)lua";

// KEYS: meta, tokens. ARGV: tokenizer_version, flags, spam_learns,
// ham_learns, then token, entry pairs. Reply 1 (stored) or 0 (a model
// was there).
constexpr char kSeedScript[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
for i = 5, #ARGV, 1000 do
  redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('HSET', KEYS[1], 'version', 1, 'tokenizer_version', ARGV[1], 'flags', ARGV[2],
           'spam_learns', ARGV[3], 'ham_learns', ARGV[4])
return 1
)lua";

void Put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
std::uint64_t Get(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
  return v;
}

std::string TokenField(std::uint64_t token) {
  std::string out;
  Put(out, token, 8);
  return out;
}

std::string EntryValue(const content::TokenCounts& c) {
  std::string out;
  Put(out, c.spam, 4);
  Put(out, c.ham, 4);
  Put(out, std::bit_cast<std::uint32_t>(c.weight), 4);
  return out;
}

// False for a field or value that is not ours (written by hand).
bool Decode(std::string_view field, std::string_view value, std::uint64_t& token, content::TokenCounts& c) {
  if (field.size() != 8 || value.size() != 12) return false;
  token = Get(field, 0, 8);
  c.spam = static_cast<std::uint32_t>(Get(value, 0, 4));
  c.ham = static_cast<std::uint32_t>(Get(value, 4, 4));
  c.weight = std::bit_cast<float>(static_cast<std::uint32_t>(Get(value, 8, 4)));
  return true;
}

std::uint64_t Number(const redisReply* r) {
  std::uint64_t v = 0;
  if (r != nullptr && r->type == REDIS_REPLY_INTEGER) return static_cast<std::uint64_t>(r->integer);
  if (r != nullptr && r->type == REDIS_REPLY_STRING) (void)absl::SimpleAtoi(redis::StringOf(r), &v);
  return v;
}

struct Meta {
  std::uint64_t version = 0;
  std::uint64_t spam_learns = 0;
  std::uint64_t ham_learns = 0;
  bool has_features = false;
  content::FeatureSet features;
};

absl::StatusOr<Meta> ReadMeta(redis::RedisClient& client, const std::string& key) {
  absl::StatusOr<redis::ReplyPtr> r =
      client.Command({"HMGET", key, "version", "spam_learns", "ham_learns", "tokenizer_version", "flags"});
  if (!r.ok()) return r.status();
  const redisReply* reply = r->get();
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 5) return absl::InternalError("redis: bad HMGET reply");
  Meta m{Number(reply->element[0]), Number(reply->element[1]), Number(reply->element[2])};
  m.has_features = reply->element[3]->type == REDIS_REPLY_STRING;
  m.features = {static_cast<std::uint32_t>(Number(reply->element[3])),
                static_cast<std::uint32_t>(Number(reply->element[4]))};
  return m;
}

absl::Status CheckFeatures(const Meta& meta, const content::Classifier& local, const std::string& where) {
  if (!meta.has_features || meta.features == local.Features()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "the model in ", where, " was learned with tokenizer version ", meta.features.tokenizer_version, " flags ",
      meta.features.flags, " and this hive-policyd makes version ", local.Features().tokenizer_version, " flags ",
      local.Features().flags, " (content.bayes.structure_tokens, or another build): relearn it"));
}

}  // namespace

SharedModel::SharedModel(redis::RedisClient& client, const std::string& key_prefix)
    : client_(client), meta_key_(key_prefix + ":{bayes}:meta"), tokens_key_(key_prefix + ":{bayes}:tokens") {}

std::string SharedModel::Describe() const { return absl::StrCat("redis ", client_.Where(), " ", meta_key_); }

absl::StatusOr<std::uint64_t> SharedModel::Version() const {
  absl::StatusOr<redis::ReplyPtr> r = client_.Command({"HGET", meta_key_, "version"});
  if (!r.ok()) return r.status();
  return Number(r->get());
}

absl::StatusOr<SharedModelTotals> SharedModel::Learn(content::Classifier& local,
                                                     std::span<const std::uint64_t> features, bool is_spam) {
  for (int attempt = 0; attempt < kLearnAttempts; ++attempt) {
    if (attempt > 0) BackOff(attempt - 1);
    absl::StatusOr<Meta> meta = ReadMeta(client_, meta_key_);
    if (!meta.ok()) return meta.status();
    if (absl::Status s = CheckFeatures(*meta, local, Describe()); !s.ok()) return s;
    std::vector<std::string> argv{"HMGET", tokens_key_};
    for (std::uint64_t t : features) argv.push_back(TokenField(t));
    content::TokenStore part(local.Features());
    part.SetLearns(meta->spam_learns, meta->ham_learns);
    if (!features.empty()) {
      absl::StatusOr<redis::ReplyPtr> r = client_.Command(argv);
      if (!r.ok()) return r.status();
      const redisReply* reply = r->get();
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != features.size()) {
        return absl::InternalError("redis: bad HMGET reply");
      }
      for (std::size_t i = 0; i < features.size(); ++i) {
        std::uint64_t token = 0;
        content::TokenCounts c;
        if (reply->element[i]->type == REDIS_REPLY_STRING &&
            Decode(argv[i + 2], redis::StringOf(reply->element[i]), token, c)) {
          part.Set(token, c);
        }
      }
    }
    content::LearnInto(part, features, is_spam, local.options());
    std::vector<std::string> args{std::to_string(meta->version), std::to_string(local.Features().tokenizer_version),
                                  std::to_string(local.Features().flags), std::to_string(part.spam_learns()),
                                  std::to_string(part.ham_learns())};
    for (std::uint64_t t : features) {
      args.push_back(TokenField(t));
      args.push_back(EntryValue(part.Find(t)));
    }
    absl::StatusOr<redis::ReplyPtr> w = client_.Eval(kLearnScript, {meta_key_, tokens_key_}, args);
    if (!w.ok()) return w.status();
    const redisReply* reply = w->get();
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return absl::InternalError("redis: bad learn reply");
    if (redis::IntegerOf(reply->element[0]) == 1) {
      local.Merge(part);
      return SharedModelTotals{part.spam_learns(), part.ham_learns(), Number(reply->element[1])};
    }
  }
  return absl::UnavailableError(
      absl::StrCat("the model in ", Describe(), " changed under ", kLearnAttempts, " attempts to learn: try again"));
}

absl::StatusOr<std::pair<content::TokenStore, std::uint64_t>> SharedModel::LoadModel(
    const content::Classifier& local) const {
  for (int attempt = 0; attempt < kLoadAttempts; ++attempt) {
    absl::StatusOr<Meta> meta = ReadMeta(client_, meta_key_);
    if (!meta.ok()) return meta.status();
    if (absl::Status s = CheckFeatures(*meta, local, Describe()); !s.ok()) return s;
    content::TokenStore model(local.Features());
    model.SetLearns(meta->spam_learns, meta->ham_learns);
    absl::Status scanned =
        redis::ScanHash(client_, tokens_key_, 2000, [&](const std::string& field, const std::string& value) {
          std::uint64_t token = 0;
          content::TokenCounts c;
          if (Decode(field, value, token, c)) model.Set(token, c);
        });
    if (!scanned.ok()) return scanned;
    // A learn during the scan: its tokens may be half in; read again.
    absl::StatusOr<std::uint64_t> after = Version();
    if (!after.ok()) return after.status();
    if (*after == meta->version) return std::pair{std::move(model), meta->version};
  }
  return absl::UnavailableError(absl::StrCat("the model in ", Describe(), " changed during ", kLoadAttempts, " loads"));
}

absl::StatusOr<bool> SharedModel::Seed(const content::TokenStore& model) const {
  std::vector<std::string> args{std::to_string(model.features().tokenizer_version),
                                std::to_string(model.features().flags), std::to_string(model.spam_learns()),
                                std::to_string(model.ham_learns())};
  model.ForEach([&](std::uint64_t token, const content::TokenCounts& c) {
    args.push_back(TokenField(token));
    args.push_back(EntryValue(c));
  });
  absl::StatusOr<redis::ReplyPtr> r = client_.Eval(kSeedScript, {meta_key_, tokens_key_}, args);
  if (!r.ok()) return r.status();
  return redis::IntegerOf(r->get()) == 1;
}

bool SharedModel::In(const config::PolicySnapshot& snapshot) const {
  return snapshot.content.classifier() != nullptr;
}

absl::StatusOr<bool> SharedModel::SeedFrom(const config::PolicySnapshot& snapshot) const {
  const content::TokenStore mine = snapshot.content.classifier()->Model();
  if (mine.spam_learns() + mine.ham_learns() == 0) return false;
  return Seed(mine);
}

absl::StatusOr<SharedObject::Loaded> SharedModel::Load(const config::PolicySnapshot& snapshot) const {
  absl::StatusOr<std::pair<content::TokenStore, std::uint64_t>> loaded = LoadModel(*snapshot.content.classifier());
  if (!loaded.ok()) return loaded.status();
  auto model = std::make_shared<const content::TokenStore>(std::move(loaded->first));
  return Loaded{loaded->second, [model](const config::PolicySnapshot& s) {
                  return s.content.classifier()->Install(*model);
                }};
}

}  // namespace hive::policy::admin
