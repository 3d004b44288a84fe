// Compiles the `content` section of the policy config into a content
// Scorer: validates every rule, meta expression, check weight and parse
// limit, reporting each problem against its field path
// ("content.metas[2].expression") so the caller can name file:line:col.
//
// Thread-safety: a pure function.
#pragma once

#include <functional>
#include <string>

#include "content/scorer.h"
#include "hive/config/v1/policy_config.pb.h"

namespace hive::policy::config {

// Called once per problem with the field path and what is wrong.
using ConfigError = std::function<void(const std::string& path, const std::string& problem)>;

// `content_hash`: a rate-limit key uses {content_hash}, so every message's
// is computed (ScorerOptions::content_hash).
content::Scorer CompileContent(const hive::config::v1::Content& in, const ConfigError& error,
                               bool content_hash = false);

}  // namespace hive::policy::config
