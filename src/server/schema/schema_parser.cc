#include "src/server/schema/schema_parser.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace kite::schema {

// Builds a registry; the friend that may fill the private indexes.
class SchemaRegistryBuilder {
 public:
  Status AddFile(const SchemaSource& source);
  Result<SchemaRegistry> Finish();

 private:
  struct PendingField {
    MessageSchema* message;
    size_t index;
    std::string type_name;        // for kMessage: the name as written
    std::string value_type_name;  // for kMap with message values
    std::string package;
    std::string file;
  };
  struct PendingKind {
    const MessageSchema* message;
    bool shared;
    std::string file;
    int line;
  };

  Status Resolve(const PendingField& pending, const std::string& name, const MessageSchema** out);

  SchemaRegistry registry_;
  std::vector<PendingField> pending_fields_;
  std::vector<PendingKind> pending_kinds_;
  std::map<std::string, std::string> message_file_;  // full name -> "file:line"
};

namespace {

// Lexical tokens of the .kschema language.
enum class TokenType { kIdent, kNumber, kString, kPunct, kEnd };

struct Token {
  TokenType type = TokenType::kEnd;
  std::string text;
  int line = 0;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

class Lexer {
 public:
  Lexer(std::string_view file, std::string_view text) : file_(file), text_(text) {}

  Result<std::vector<Token>> Tokenize() {
    std::vector<Token> tokens;
    while (true) {
      SkipSpaceAndComments();
      if (pos_ >= text_.size()) break;
      char c = text_[pos_];
      Token t;
      t.line = line_;
      if (IsIdentStart(c)) {
        size_t start = pos_;
        while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
        t.type = TokenType::kIdent;
        t.text = std::string(text_.substr(start, pos_ - start));
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        size_t start = pos_;
        while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
        t.type = TokenType::kNumber;
        t.text = std::string(text_.substr(start, pos_ - start));
      } else if (c == '"') {
        ++pos_;
        size_t start = pos_;
        while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\n') ++pos_;
        if (pos_ >= text_.size() || text_[pos_] != '"') {
          return Error("unterminated string");
        }
        t.type = TokenType::kString;
        t.text = std::string(text_.substr(start, pos_ - start));
        ++pos_;
      } else if (std::string_view(";{}[]<>,=").find(c) != std::string_view::npos) {
        t.type = TokenType::kPunct;
        t.text = std::string(1, c);
        ++pos_;
      } else {
        return Error(std::string("unexpected character '") + c + "'");
      }
      tokens.push_back(std::move(t));
    }
    Token end;
    end.line = line_;
    tokens.push_back(end);
    return tokens;
  }

 private:
  void SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }
  Status Error(const std::string& what) const {
    return InvalidArgumentError(std::string(file_) + ":" + std::to_string(line_) + ": " + what);
  }

  std::string_view file_;
  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

std::optional<FieldKind> ScalarKind(std::string_view name) {
  static const std::pair<std::string_view, FieldKind> kKinds[] = {
      {"string", FieldKind::kString},
      {"int32", FieldKind::kInt32},
      {"int64", FieldKind::kInt64},
      {"uint32", FieldKind::kUint32},
      {"uint64", FieldKind::kUint64},
      {"bool", FieldKind::kBool},
      {"double", FieldKind::kDouble},
      {"float", FieldKind::kFloat},
      {"bytes", FieldKind::kBytes},
      {"Time", FieldKind::kTime},
      {"MicroTime", FieldKind::kMicroTime},
      {"Duration", FieldKind::kDuration},
      {"Quantity", FieldKind::kQuantity},
      {"IntOrString", FieldKind::kIntOrString},
      {"RawExtension", FieldKind::kRawExtension},
      {"FieldsV1", FieldKind::kFieldsV1},
  };
  for (const auto& [n, k] : kKinds) {
    if (n == name) return k;
  }
  return std::nullopt;
}

bool IsPlainIdent(std::string_view s) {
  if (s.empty() || !IsIdentStart(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Recursive-descent parser for one file.
class FileParser {
 public:
  FileParser(std::string_view file, std::vector<Token> tokens)
      : file_(file), tokens_(std::move(tokens)) {}

  struct ParsedField {
    FieldSchema field;
    std::string type_name;        // message type as written (kMessage)
    std::string value_type_name;  // map value message type as written
  };
  struct ParsedMessage {
    MessageSchema message;
    std::vector<ParsedField> fields;
    int line = 0;
    std::optional<std::string> kind;
  };

  std::string package;
  std::optional<std::string> group;
  std::optional<std::string> version;
  bool shared_kinds = false;
  std::vector<ParsedMessage> messages;

  Status Parse() {
    while (Peek().type != TokenType::kEnd) {
      const Token& t = Peek();
      if (t.type != TokenType::kIdent)
        return Error(t, "expected a statement, got '" + t.text + "'");
      if (t.text == "package") {
        Next();
        KITE_RETURN_IF_ERROR(ExpectIdent("package name", &package));
        KITE_RETURN_IF_ERROR(Expect(";"));
      } else if (t.text == "group" || t.text == "version") {
        Token kw = Next();
        const Token& v = Peek();
        if (v.type != TokenType::kString) return Error(v, "expected a quoted " + kw.text);
        (kw.text == "group" ? group : version) = Next().text;
        KITE_RETURN_IF_ERROR(Expect(";"));
      } else if (t.text == "option") {
        Next();
        std::string name;
        KITE_RETURN_IF_ERROR(ExpectIdent("option name", &name));
        if (name != "shared_kinds")
          return Error(tokens_[pos_ - 1], "unknown option '" + name + "'");
        shared_kinds = true;
        KITE_RETURN_IF_ERROR(Expect(";"));
      } else if (t.text == "message") {
        KITE_RETURN_IF_ERROR(ParseMessage());
      } else {
        return Error(t,
                     "expected package, group, version, option or message, got '" + t.text + "'");
      }
    }
    if (package.empty()) return Error(Peek(), "missing 'package' statement");
    return Status::Ok();
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  Token Next() {
    Token t = tokens_[pos_];
    if (t.type != TokenType::kEnd) ++pos_;
    return t;
  }
  bool TryPunct(std::string_view p) {
    if (Peek().type == TokenType::kPunct && Peek().text == p) {
      ++pos_;
      return true;
    }
    return false;
  }
  Status Error(const Token& at, const std::string& what) const {
    return InvalidArgumentError(std::string(file_) + ":" + std::to_string(at.line) + ": " + what);
  }
  Status Expect(std::string_view p) {
    if (TryPunct(p)) return Status::Ok();
    const Token& t = Peek();
    return Error(t, "expected '" + std::string(p) + "', got " +
                        (t.type == TokenType::kEnd ? "end of file" : "'" + t.text + "'"));
  }
  Status ExpectIdent(const std::string& what, std::string* out) {
    const Token& t = Peek();
    if (t.type != TokenType::kIdent) {
      return Error(t, "expected " + what + ", got " +
                          (t.type == TokenType::kEnd ? "end of file" : "'" + t.text + "'"));
    }
    *out = Next().text;
    return Status::Ok();
  }

  struct Option {
    std::string name;
    std::string value;
    bool has_value = false;
    int line = 0;
  };
  Status ParseOptions(std::vector<Option>* out) {
    if (!TryPunct("[")) return Status::Ok();
    while (true) {
      Option o;
      o.line = Peek().line;
      KITE_RETURN_IF_ERROR(ExpectIdent("an option name", &o.name));
      if (TryPunct("=")) {
        const Token& v = Peek();
        if (v.type == TokenType::kEnd || v.type == TokenType::kPunct) {
          return Error(v, "expected a value for option '" + o.name + "'");
        }
        o.value = Next().text;
        o.has_value = true;
      }
      out->push_back(std::move(o));
      if (TryPunct("]")) break;
      KITE_RETURN_IF_ERROR(Expect(","));
    }
    return Status::Ok();
  }

  Status ParseMessage() {
    Token kw = Next();  // "message"
    ParsedMessage m;
    m.line = kw.line;
    if (package.empty()) return Error(kw, "'package' must come before the first message");
    KITE_RETURN_IF_ERROR(ExpectIdent("a message name", &m.message.name));
    if (!IsPlainIdent(m.message.name)) {
      return Error(kw, "invalid message name '" + m.message.name + "'");
    }
    if (ScalarKind(m.message.name)) {
      return Error(kw, "message name '" + m.message.name + "' is a built-in type");
    }
    std::vector<Option> options;
    KITE_RETURN_IF_ERROR(ParseOptions(&options));
    for (const Option& o : options) {
      if (o.name == "kind") {
        m.kind = o.has_value ? o.value : m.message.name;
      } else if (o.name == "wrapper" && !o.has_value) {
        m.message.is_wrapper = true;
      } else if (o.name == "oneof" && !o.has_value) {
        m.message.is_oneof = true;
      } else {
        return Error(kw, "unknown message option '" + o.name + "'");
      }
    }
    KITE_RETURN_IF_ERROR(Expect("{"));
    while (!TryPunct("}")) {
      if (Peek().type == TokenType::kEnd)
        return Error(Peek(), "missing '}' of message " + m.message.name);
      ParsedField f;
      KITE_RETURN_IF_ERROR(ParseField(&f));
      m.fields.push_back(std::move(f));
    }
    messages.push_back(std::move(m));
    return Status::Ok();
  }

  Status ParseField(ParsedField* f) {
    const Token first = Peek();
    f->field.line = first.line;
    std::string type;
    KITE_RETURN_IF_ERROR(ExpectIdent("a field type", &type));
    if (type == "repeated") {
      f->field.repeated = true;
      KITE_RETURN_IF_ERROR(ExpectIdent("a field type after 'repeated'", &type));
    }
    if (type == "map") {
      if (f->field.repeated) return Error(first, "a map cannot be repeated");
      f->field.kind = FieldKind::kMap;
      KITE_RETURN_IF_ERROR(Expect("<"));
      std::string key_type, value_type;
      KITE_RETURN_IF_ERROR(ExpectIdent("a map key type", &key_type));
      if (key_type != "string")
        return Error(first, "map keys must be string, got '" + key_type + "'");
      KITE_RETURN_IF_ERROR(Expect(","));
      KITE_RETURN_IF_ERROR(ExpectIdent("a map value type", &value_type));
      if (value_type == "map") return Error(first, "a map value cannot be a map");
      KITE_RETURN_IF_ERROR(Expect(">"));
      if (auto k = ScalarKind(value_type)) {
        f->field.map_value_kind = *k;
      } else {
        f->field.map_value_kind = FieldKind::kMessage;
        f->value_type_name = value_type;
      }
    } else if (auto k = ScalarKind(type)) {
      f->field.kind = *k;
    } else {
      f->field.kind = FieldKind::kMessage;
      f->type_name = type;
    }
    KITE_RETURN_IF_ERROR(ExpectIdent("a field name", &f->field.json_name));
    if (!IsPlainIdent(f->field.json_name)) {
      return Error(first, "invalid field name '" + f->field.json_name + "'");
    }
    KITE_RETURN_IF_ERROR(Expect("="));
    const Token& num = Peek();
    if (num.type != TokenType::kNumber)
      return Error(num, "expected a field number, got '" + num.text + "'");
    Next();
    if (num.text.size() > 9 || std::stol(num.text) < 1 || std::stol(num.text) > 536870911) {
      return Error(num, "field number " + num.text + " out of range 1..536870911");
    }
    f->field.number = static_cast<int>(std::stol(num.text));
    std::vector<Option> options;
    KITE_RETURN_IF_ERROR(ParseOptions(&options));
    bool saw_strategy = false;
    for (const Option& o : options) {
      Token at;
      at.line = o.line;
      if (o.name == "ptr" && !o.has_value) {
        f->field.ptr = true;
      } else if (o.name == "inline" && !o.has_value) {
        f->field.inline_json = true;
      } else if (o.name == "json" && o.has_value) {
        if (o.value.empty()) return Error(at, "json name must not be empty");
        f->field.json_name = o.value;
      } else if (o.name == "merge_key" && o.has_value) {
        f->field.merge_key = o.value;
      } else if ((o.name == "strategy" && o.has_value) ||
                 (o.name == "retainKeys" && saw_strategy)) {
        saw_strategy = true;
        std::string_view rest = o.has_value ? std::string_view(o.value) : "retainKeys";
        while (!rest.empty()) {
          size_t comma = rest.find(',');
          std::string_view s = rest.substr(0, comma);
          rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
          if (s == "merge") {
            f->field.strategy_merge = true;
          } else if (s == "retainKeys") {
            f->field.strategy_retain_keys = true;
          } else if (s == "replace") {
            f->field.strategy_replace = true;
          } else {
            return Error(at, "unknown patch strategy '" + std::string(s) + "'");
          }
        }
      } else {
        return Error(at,
                     "unknown field option '" + o.name + "'" + (o.has_value ? "=" + o.value : ""));
      }
    }
    if (f->field.inline_json && (f->field.kind != FieldKind::kMessage || f->field.repeated)) {
      return Error(first, "[inline] needs a non-repeated message field");
    }
    if (!f->field.merge_key.empty() && !f->field.repeated) {
      return Error(first, "merge_key needs a repeated field");
    }
    return Expect(";");
  }

  std::string_view file_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

Status SchemaRegistryBuilder::AddFile(const SchemaSource& source) {
  Lexer lexer(source.file_name, source.text);
  Result<std::vector<Token>> tokens = lexer.Tokenize();
  if (!tokens.ok()) return tokens.status();
  FileParser parser(source.file_name, std::move(tokens).value());
  KITE_RETURN_IF_ERROR(parser.Parse());
  const std::string file(source.file_name);
  auto error = [&](int line, const std::string& what) {
    return InvalidArgumentError(file + ":" + std::to_string(line) + ": " + what);
  };
  if (!parser.group || !parser.version) {
    return error(1, "missing 'group' or 'version' statement");
  }
  for (auto& pm : parser.messages) {
    auto m = std::make_unique<MessageSchema>(std::move(pm.message));
    m->package = parser.package;
    m->group = *parser.group;
    m->version = *parser.version;
    const std::string full = m->FullName();
    if (auto it = message_file_.find(full); it != message_file_.end()) {
      return error(pm.line, "message " + full + " already declared at " + it->second);
    }
    message_file_[full] = file + ":" + std::to_string(pm.line);
    std::set<std::string> json_names;
    for (size_t i = 0; i < pm.fields.size(); ++i) {
      FieldSchema& f = pm.fields[i].field;
      if (m->by_number_.count(f.number)) {
        return error(f.line,
                     "field number " + std::to_string(f.number) + " used twice in " + m->name);
      }
      if (!json_names.insert(f.json_name).second) {
        return error(f.line, "field name '" + f.json_name + "' used twice in " + m->name);
      }
      m->by_number_[f.number] = i;
      m->by_json_[f.json_name] = i;
      m->fields.push_back(f);
    }
    if (m->is_oneof && (m->is_wrapper || pm.kind || m->fields.empty())) {
      return error(pm.line, "[oneof] message " + m->name +
                                " needs fields and cannot be a kind or a wrapper");
    }
    if (m->is_wrapper) {
      if (m->fields.size() != 1 || m->fields[0].number != 1 || !m->fields[0].repeated) {
        return error(pm.line,
                     "[wrapper] message " + m->name + " needs exactly one repeated field = 1");
      }
    }
    MessageSchema* raw = m.get();
    for (size_t i = 0; i < pm.fields.size(); ++i) {
      if (!pm.fields[i].type_name.empty() || !pm.fields[i].value_type_name.empty()) {
        pending_fields_.push_back(
            {raw, i, pm.fields[i].type_name, pm.fields[i].value_type_name, parser.package, file});
      }
    }
    if (pm.kind) {
      raw->is_kind = true;
      raw->kind = *pm.kind;
      pending_kinds_.push_back({raw, parser.shared_kinds, file, pm.line});
    }
    registry_.by_full_name_[full] = raw;
    registry_.messages_.push_back(std::move(m));
  }
  return Status::Ok();
}

Status SchemaRegistryBuilder::Resolve(const PendingField& pending, const std::string& name,
                                      const MessageSchema** out) {
  std::string full = name.find('.') == std::string::npos ? pending.package + "." + name : name;
  auto it = registry_.by_full_name_.find(full);
  if (it == registry_.by_full_name_.end()) {
    const FieldSchema& f = pending.message->fields[pending.index];
    return InvalidArgumentError(pending.file + ":" + std::to_string(f.line) + ": unknown type '" +
                                name + "' of field " + pending.message->name + "." + f.json_name);
  }
  *out = it->second;
  return Status::Ok();
}

Result<SchemaRegistry> SchemaRegistryBuilder::Finish() {
  for (const PendingField& p : pending_fields_) {
    FieldSchema& f = p.message->fields[p.index];
    if (!p.type_name.empty()) KITE_RETURN_IF_ERROR(Resolve(p, p.type_name, &f.message));
    if (!p.value_type_name.empty())
      KITE_RETURN_IF_ERROR(Resolve(p, p.value_type_name, &f.map_value_message));
    if (f.inline_json && (f.message->is_wrapper || f.message->is_oneof)) {
      return InvalidArgumentError(p.file + ":" + std::to_string(f.line) +
                                  ": [inline] field cannot have a [wrapper] or [oneof] type");
    }
  }
  for (const PendingKind& k : pending_kinds_) {
    const MessageSchema* m = k.message;
    std::string key = m->group + "/" + m->version + "/" + m->kind;
    if (registry_.kinds_.count(key)) {
      return InvalidArgumentError(k.file + ":" + std::to_string(k.line) + ": kind " + key +
                                  " declared twice");
    }
    registry_.kinds_[key] = m;
    if (k.shared) registry_.shared_kinds_.emplace(m->kind, m);
  }
  // The flattened JSON view of each message: own fields, then [inline] members. Inline
  // chains are short; a cycle of inline fields is a schema error.
  for (auto& m : registry_.messages_) {
    std::function<Status(const MessageSchema*, int)> add = [&](const MessageSchema* from,
                                                               int depth) -> Status {
      if (depth > 8) {
        return InvalidArgumentError("message " + m->FullName() +
                                    ": [inline] fields nest too deep (cycle?)");
      }
      for (const FieldSchema& f : from->fields) {
        if (!f.inline_json) m->by_json_flat_.emplace(f.json_name, &f);
      }
      for (const FieldSchema& f : from->fields) {
        if (f.inline_json) KITE_RETURN_IF_ERROR(add(f.message, depth + 1));
      }
      return Status::Ok();
    };
    KITE_RETURN_IF_ERROR(add(m.get(), 0));
  }
  return std::move(registry_);
}

Result<SchemaRegistry> ParseSchemas(std::span<const SchemaSource> sources) {
  SchemaRegistryBuilder builder;
  for (const SchemaSource& source : sources) KITE_RETURN_IF_ERROR(builder.AddFile(source));
  return builder.Finish();
}

}  // namespace kite::schema
