#include "src/server/selection/label_selector.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <tuple>

#include "src/server/selection/label_validation.h"

namespace kite::selection {
namespace {

using Op = LabelSelector::Operator;
using Requirement = LabelSelector::Requirement;

// ---- Lexer -------------------------------------------------------------------------------
// A port of the Kubernetes lexer's behaviour: identifiers run until whitespace or one of the
// special symbols; special symbols are scanned longest-match ("!=" before "!").

enum class Tok {
  kError,
  kEnd,
  kClosedPar,
  kComma,
  kDoesNotExist,
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

struct Item {
  Tok tok;
  std::string literal;
};

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsSpecialSymbol(char c) {
  switch (c) {
    case '=': case '!': case '(': case ')': case ',': case '>': case '<':
      return true;
    default:
      return false;
  }
}

std::optional<Tok> KeywordOrSymbol(std::string_view s) {
  if (s == ")") return Tok::kClosedPar;
  if (s == ",") return Tok::kComma;
  if (s == "!") return Tok::kDoesNotExist;
  if (s == "==") return Tok::kDoubleEquals;
  if (s == "=") return Tok::kEquals;
  if (s == ">") return Tok::kGreaterThan;
  if (s == "in") return Tok::kIn;
  if (s == "<") return Tok::kLessThan;
  if (s == "!=") return Tok::kNotEquals;
  if (s == "notin") return Tok::kNotIn;
  if (s == "(") return Tok::kOpenPar;
  return std::nullopt;
}

std::vector<Item> Lex(std::string_view s) {
  std::vector<Item> items;
  size_t pos = 0;
  while (true) {
    while (pos < s.size() && IsWhitespace(s[pos])) ++pos;
    if (pos >= s.size()) {
      items.push_back({Tok::kEnd, ""});
      return items;
    }
    if (IsSpecialSymbol(s[pos])) {
      std::string buffer;
      std::optional<Item> last;
      while (pos < s.size() && IsSpecialSymbol(s[pos])) {
        buffer.push_back(s[pos]);
        if (auto tok = KeywordOrSymbol(buffer)) {
          last = Item{*tok, buffer};
        } else if (last) {
          break;  // the longer sequence is no token: stop before this character
        }
        ++pos;
      }
      if (!last) {
        // Unreachable with today's symbol table (every single symbol is a token), kept for
        // parity with Kubernetes.
        items.push_back({Tok::kError, "error expected: keyword found '" + buffer + "'"});
      } else {
        items.push_back(std::move(*last));
      }
      continue;
    }
    size_t start = pos;
    while (pos < s.size() && !IsWhitespace(s[pos]) && !IsSpecialSymbol(s[pos])) ++pos;
    std::string word(s.substr(start, pos - start));
    auto tok = KeywordOrSymbol(word);
    items.push_back({tok ? *tok : Tok::kIdentifier, std::move(word)});
  }
}

// ---- Requirement validation (Kubernetes' NewRequirement) --------------------------------

// Go's strconv.ParseInt(s, 10, 64).
std::optional<int64_t> ParseInt64(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t magnitude = 0;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (limit - digit) / 10) return std::nullopt;
    magnitude = magnitude * 10 + digit;
  }
  if (negative) {
    return magnitude == (uint64_t{1} << 63) ? std::numeric_limits<int64_t>::min()
                                            : -static_cast<int64_t>(magnitude);
  }
  return static_cast<int64_t>(magnitude);
}

// Go's %#v of a []string, as field.Invalid prints a list value.
std::string GoStringSlice(const std::vector<std::string>& values) {
  if (values.empty()) return "[]string(nil)";
  std::string out = "[]string{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += GoQuote(values[i]);
  }
  return out + "}";
}

std::string InvalidListMessage(std::string_view path, const std::vector<std::string>& values,
                               std::string_view detail) {
  return std::string(path) + ": Invalid value: " + GoStringSlice(values) + ": " +
         std::string(detail);
}

// utilerrors.NewAggregate(...).Error(): one message as is, several de-duplicated in [].
std::string Aggregate(const std::vector<std::string>& errors) {
  if (errors.size() == 1) return errors[0];
  std::vector<std::string> unique;
  for (const std::string& e : errors) {
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  if (unique.size() == 1) return unique[0];
  std::string out = "[";
  for (size_t i = 0; i < unique.size(); ++i) {
    if (i > 0) out += ", ";
    out += unique[i];
  }
  return out + "]";
}

// Validates a requirement as NewRequirement does (with no field path); returns the error
// text, or nullopt when valid.
std::optional<std::string> ValidateRequirement(const Requirement& r) {
  std::vector<std::string> errors;
  if (auto key_errors = QualifiedNameErrors(r.key); !key_errors.empty()) {
    errors.push_back(InvalidValueMessage("key", r.key, key_errors));
  }
  switch (r.op) {
    case Op::kIn:
    case Op::kNotIn:
      if (r.values.empty()) {
        errors.push_back(InvalidListMessage(
            "values", r.values, "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case Op::kEquals:
    case Op::kDoubleEquals:
    case Op::kNotEquals:
      if (r.values.size() != 1) {
        errors.push_back(InvalidListMessage(
            "values", r.values, "exact-match compatibility requires one single value"));
      }
      break;
    case Op::kExists:
    case Op::kDoesNotExist:
      if (!r.values.empty()) {
        errors.push_back(InvalidListMessage(
            "values", r.values, "values set must be empty for exists and does not exist"));
      }
      break;
    case Op::kGreaterThan:
    case Op::kLessThan:
      if (r.values.size() != 1) {
        errors.push_back(InvalidListMessage(
            "values", r.values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      for (size_t i = 0; i < r.values.size(); ++i) {
        if (!ParseInt64(r.values[i])) {
          errors.push_back(InvalidValueMessage(
              "values[" + std::to_string(i) + "]", r.values[i],
              {"for 'Gt', 'Lt' operators, the value must be an integer"}));
        }
      }
      break;
  }
  for (size_t i = 0; i < r.values.size(); ++i) {
    if (auto value_errors = LabelValueErrors(r.values[i]); !value_errors.empty()) {
      errors.push_back(InvalidValueMessage(
          "values[" + std::to_string(i) + "][" + r.key + "]", r.values[i], value_errors));
    }
  }
  if (errors.empty()) return std::nullopt;
  return Aggregate(errors);
}

// ---- Parser ------------------------------------------------------------------------------

// In the "values" context the keywords in/notin are ordinary identifiers ("x in (in)").
enum class Context { kKeyAndOperator, kValues };

class Parser {
 public:
  explicit Parser(std::string_view text) : items_(Lex(text)) {}

  Result<std::vector<Requirement>> Parse() {
    std::vector<Requirement> requirements;
    while (true) {
      auto [tok, lit] = Lookahead(Context::kValues);
      switch (tok) {
        case Tok::kIdentifier:
        case Tok::kDoesNotExist: {
          Result<Requirement> r = ParseRequirement();
          if (!r.ok()) {
            return InvalidArgumentError("unable to parse requirement: " + r.status().message());
          }
          requirements.push_back(std::move(r).value());
          auto [t, l] = Consume(Context::kValues);
          if (t == Tok::kEnd) return requirements;
          if (t == Tok::kComma) {
            auto [t2, l2] = Lookahead(Context::kValues);
            if (t2 != Tok::kIdentifier && t2 != Tok::kDoesNotExist) {
              return InvalidArgumentError("found '" + l2 + "', expected: identifier after ','");
            }
            break;
          }
          return InvalidArgumentError("found '" + l + "', expected: ',' or 'end of string'");
        }
        case Tok::kEnd:
          return requirements;
        default:
          return InvalidArgumentError("found '" + lit +
                                      "', expected: !, identifier, or 'end of string'");
      }
    }
  }

 private:
  static Tok InContext(Tok tok, Context context) {
    if (context == Context::kValues && (tok == Tok::kIn || tok == Tok::kNotIn)) {
      return Tok::kIdentifier;
    }
    return tok;
  }

  std::pair<Tok, std::string> Lookahead(Context context) const {
    const Item& item = items_[position_];
    return {InContext(item.tok, context), item.literal};
  }

  // Never moves past the end token, so the parser cannot run off the item list.
  std::pair<Tok, std::string> Consume(Context context) {
    const Item& item = items_[position_];
    if (item.tok != Tok::kEnd) ++position_;
    return {InContext(item.tok, context), item.literal};
  }

  Result<Requirement> ParseRequirement() {
    Requirement r;
    // Key, and the operator when it is unary ("!key", or a bare key before ',' or the end).
    auto [tok, literal] = Consume(Context::kValues);
    bool does_not_exist = false;
    if (tok == Tok::kDoesNotExist) {
      does_not_exist = true;
      std::tie(tok, literal) = Consume(Context::kValues);
    }
    if (tok != Tok::kIdentifier) {
      return InvalidArgumentError("found '" + literal + "', expected: identifier");
    }
    if (auto key_errors = QualifiedNameErrors(literal); !key_errors.empty()) {
      return InvalidArgumentError(InvalidValueMessage("<nil>", literal, key_errors));
    }
    r.key = literal;
    auto [next, next_literal] = Lookahead(Context::kValues);
    if (does_not_exist || next == Tok::kEnd || next == Tok::kComma) {
      // "!key" followed by anything else is left for the caller to reject, as Kubernetes does.
      r.op = does_not_exist ? Op::kDoesNotExist : Op::kExists;
      if (auto error = ValidateRequirement(r)) return InvalidArgumentError(*error);
      return r;
    }

    auto [op_tok, op_literal] = Consume(Context::kKeyAndOperator);
    switch (op_tok) {
      case Tok::kIn: r.op = Op::kIn; break;
      case Tok::kNotIn: r.op = Op::kNotIn; break;
      case Tok::kEquals: r.op = Op::kEquals; break;
      case Tok::kDoubleEquals: r.op = Op::kDoubleEquals; break;
      case Tok::kNotEquals: r.op = Op::kNotEquals; break;
      case Tok::kGreaterThan: r.op = Op::kGreaterThan; break;
      case Tok::kLessThan: r.op = Op::kLessThan; break;
      default:
        return InvalidArgumentError("found '" + op_literal +
                                    "', expected: in, notin, =, ==, !=, gt, lt");
    }

    std::set<std::string> values;  // Kubernetes collects values in a sorted set
    if (r.op == Op::kIn || r.op == Op::kNotIn) {
      KITE_RETURN_IF_ERROR(ParseValues(values));
    } else {
      KITE_RETURN_IF_ERROR(ParseExactValue(values));
    }
    r.values.assign(values.begin(), values.end());
    if (auto error = ValidateRequirement(r)) return InvalidArgumentError(*error);
    return r;
  }

  // "(" [value] {"," [value]} ")"; empty elements are the empty value.
  Status ParseValues(std::set<std::string>& values) {
    auto [tok, lit] = Consume(Context::kValues);
    if (tok != Tok::kOpenPar) return InvalidArgumentError("found '" + lit + "' expected: '('");
    std::tie(tok, lit) = Lookahead(Context::kValues);
    switch (tok) {
      case Tok::kIdentifier:
      case Tok::kComma: {
        KITE_RETURN_IF_ERROR(ParseIdentifiersList(values));
        if (Consume(Context::kValues).first != Tok::kClosedPar) {
          return InvalidArgumentError("found '" + lit + "', expected: ')'");
        }
        return Status::Ok();
      }
      case Tok::kClosedPar:
        Consume(Context::kValues);
        values.insert("");
        return Status::Ok();
      default:
        return InvalidArgumentError("found '" + lit + "', expected: ',', ')' or identifier");
    }
  }

  Status ParseIdentifiersList(std::set<std::string>& values) {
    while (true) {
      auto [tok, lit] = Consume(Context::kValues);
      switch (tok) {
        case Tok::kIdentifier: {
          values.insert(lit);
          auto [tok2, lit2] = Lookahead(Context::kValues);
          if (tok2 == Tok::kComma) continue;
          if (tok2 == Tok::kClosedPar) return Status::Ok();
          return InvalidArgumentError("found '" + lit2 + "', expected: ',' or ')'");
        }
        case Tok::kComma: {
          if (values.empty()) values.insert("");  // "(,"
          Tok tok2 = Lookahead(Context::kValues).first;
          if (tok2 == Tok::kClosedPar) {
            values.insert("");  // ",)"
            return Status::Ok();
          }
          if (tok2 == Tok::kComma) {
            Consume(Context::kValues);
            values.insert("");  // ",,"
          }
          break;
        }
        default:
          return InvalidArgumentError("found '" + lit + "', expected: ',', or identifier");
      }
    }
  }

  Status ParseExactValue(std::set<std::string>& values) {
    Tok tok = Lookahead(Context::kValues).first;
    if (tok == Tok::kEnd || tok == Tok::kComma) {
      values.insert("");  // "key=" selects the empty value
      return Status::Ok();
    }
    auto [t, lit] = Consume(Context::kValues);
    if (t == Tok::kIdentifier) {
      values.insert(lit);
      return Status::Ok();
    }
    return InvalidArgumentError("found '" + lit + "', expected: identifier");
  }

  std::vector<Item> items_;  // always ends with a kEnd item
  size_t position_ = 0;
};

void SortByKey(std::vector<Requirement>& requirements) {
  std::stable_sort(requirements.begin(), requirements.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
}

const rapidjson::Value* LookupLabel(const rapidjson::Value* labels, std::string_view key) {
  if (labels == nullptr || !labels->IsObject()) return nullptr;
  for (auto it = labels->MemberBegin(); it != labels->MemberEnd(); ++it) {
    if (std::string_view(it->name.GetString(), it->name.GetStringLength()) == key) {
      return it->value.IsString() ? &it->value : nullptr;
    }
  }
  return nullptr;
}

bool HasValue(const std::vector<std::string>& values, const rapidjson::Value& v) {
  std::string_view s(v.GetString(), v.GetStringLength());
  return std::find(values.begin(), values.end(), s) != values.end();
}

Result<std::vector<std::string>> StringArray(const rapidjson::Value& v, std::string_view what) {
  std::vector<std::string> out;
  if (v.IsNull()) return out;
  if (!v.IsArray()) return InvalidArgumentError(std::string(what) + " must be a list of strings");
  for (const auto& item : v.GetArray()) {
    if (!item.IsString()) {
      return InvalidArgumentError(std::string(what) + " must be a list of strings");
    }
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

}  // namespace

// ---- Requirement ---------------------------------------------------------------------------

bool Requirement::Matches(const rapidjson::Value* labels) const {
  const rapidjson::Value* value = LookupLabel(labels, key);
  switch (op) {
    case Op::kIn:
    case Op::kEquals:
    case Op::kDoubleEquals:
      return value != nullptr && HasValue(values, *value);
    case Op::kNotIn:
    case Op::kNotEquals:
      return value == nullptr || !HasValue(values, *value);
    case Op::kExists:
      return value != nullptr;
    case Op::kDoesNotExist:
      return value == nullptr;
    case Op::kGreaterThan:
    case Op::kLessThan: {
      if (value == nullptr || values.size() != 1) return false;
      auto have = ParseInt64(std::string_view(value->GetString(), value->GetStringLength()));
      auto want = ParseInt64(values[0]);
      if (!have || !want) return false;
      return op == Op::kGreaterThan ? *have > *want : *have < *want;
    }
  }
  return false;
}

std::string Requirement::ToString() const {
  std::string out;
  if (op == Op::kDoesNotExist) out += "!";
  out += key;
  switch (op) {
    case Op::kEquals: out += "="; break;
    case Op::kDoubleEquals: out += "=="; break;
    case Op::kNotEquals: out += "!="; break;
    case Op::kIn: out += " in "; break;
    case Op::kNotIn: out += " notin "; break;
    case Op::kGreaterThan: out += ">"; break;
    case Op::kLessThan: out += "<"; break;
    case Op::kExists:
    case Op::kDoesNotExist:
      return out;
  }
  bool set = op == Op::kIn || op == Op::kNotIn;
  if (set) out += "(";
  std::vector<std::string> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0) out += ",";
    out += sorted[i];
  }
  if (set) out += ")";
  return out;
}

// ---- LabelSelector -------------------------------------------------------------------------

LabelSelector LabelSelector::Nothing() {
  LabelSelector s;
  s.nothing_ = true;
  return s;
}

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  Result<std::vector<Requirement>> parsed = Parser(text).Parse();
  if (!parsed.ok()) return parsed.status();
  LabelSelector s;
  s.requirements_ = std::move(parsed).value();
  SortByKey(s.requirements_);
  return s;
}

Result<LabelSelector> LabelSelector::FromJson(const rapidjson::Value& selector) {
  if (selector.IsNull()) return Nothing();
  if (!selector.IsObject()) return InvalidArgumentError("a label selector must be an object");
  LabelSelector s;
  auto match_labels = selector.FindMember("matchLabels");
  if (match_labels != selector.MemberEnd() && !match_labels->value.IsNull()) {
    if (!match_labels->value.IsObject()) {
      return InvalidArgumentError("matchLabels must be a map of strings");
    }
    for (const auto& m : match_labels->value.GetObject()) {
      if (!m.value.IsString()) return InvalidArgumentError("matchLabels must be a map of strings");
      Requirement r;
      r.key.assign(m.name.GetString(), m.name.GetStringLength());
      r.op = Op::kEquals;
      r.values.emplace_back(m.value.GetString(), m.value.GetStringLength());
      if (auto error = ValidateRequirement(r)) return InvalidArgumentError(*error);
      s.requirements_.push_back(std::move(r));
    }
  }
  auto expressions = selector.FindMember("matchExpressions");
  if (expressions != selector.MemberEnd() && !expressions->value.IsNull()) {
    if (!expressions->value.IsArray()) {
      return InvalidArgumentError("matchExpressions must be a list");
    }
    for (const auto& e : expressions->value.GetArray()) {
      if (!e.IsObject()) return InvalidArgumentError("matchExpressions items must be objects");
      Requirement r;
      auto key = e.FindMember("key");
      if (key != e.MemberEnd() && !key->value.IsNull()) {
        if (!key->value.IsString()) {
          return InvalidArgumentError("matchExpressions key must be a string");
        }
        r.key.assign(key->value.GetString(), key->value.GetStringLength());
      }
      std::string op;
      auto op_member = e.FindMember("operator");
      if (op_member != e.MemberEnd() && !op_member->value.IsNull()) {
        if (!op_member->value.IsString()) {
          return InvalidArgumentError("matchExpressions operator must be a string");
        }
        op.assign(op_member->value.GetString(), op_member->value.GetStringLength());
      }
      if (op == "In") {
        r.op = Op::kIn;
      } else if (op == "NotIn") {
        r.op = Op::kNotIn;
      } else if (op == "Exists") {
        r.op = Op::kExists;
      } else if (op == "DoesNotExist") {
        r.op = Op::kDoesNotExist;
      } else {
        return InvalidArgumentError(GoQuote(op) + " is not a valid label selector operator");
      }
      auto values = e.FindMember("values");
      if (values != e.MemberEnd()) {
        Result<std::vector<std::string>> list =
            StringArray(values->value, "matchExpressions values");
        if (!list.ok()) return list.status();
        r.values = std::move(list).value();
      }
      if (auto error = ValidateRequirement(r)) return InvalidArgumentError(*error);
      s.requirements_.push_back(std::move(r));
    }
  }
  SortByKey(s.requirements_);
  return s;
}

Result<LabelSelector> LabelSelector::FromSet(const rapidjson::Value& map) {
  LabelSelector s;
  if (map.IsNull()) return s;
  if (!map.IsObject()) return InvalidArgumentError("a selector must be a map of strings");
  for (const auto& m : map.GetObject()) {
    if (!m.value.IsString()) return InvalidArgumentError("a selector must be a map of strings");
    Requirement r;
    r.key.assign(m.name.GetString(), m.name.GetStringLength());
    r.op = Op::kEquals;
    r.values.emplace_back(m.value.GetString(), m.value.GetStringLength());
    s.requirements_.push_back(std::move(r));
  }
  SortByKey(s.requirements_);
  return s;
}

bool LabelSelector::Matches(const rapidjson::Value* labels) const {
  if (nothing_) return false;
  for (const Requirement& r : requirements_) {
    if (!r.Matches(labels)) return false;
  }
  return true;
}

bool LabelSelector::MatchesObject(const rapidjson::Value& object) const {
  const rapidjson::Value* labels = nullptr;
  if (object.IsObject()) {
    auto metadata = object.FindMember("metadata");
    if (metadata != object.MemberEnd() && metadata->value.IsObject()) {
      auto l = metadata->value.FindMember("labels");
      if (l != metadata->value.MemberEnd()) labels = &l->value;
    }
  }
  return Matches(labels);
}

std::string LabelSelector::ToString() const {
  std::string out;
  for (size_t i = 0; i < requirements_.size(); ++i) {
    if (i > 0) out += ",";
    out += requirements_[i].ToString();
  }
  return out;
}

}  // namespace kite::selection
