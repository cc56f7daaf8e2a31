#include "src/server/crd/regex.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "src/server/crd/value_format.h"

namespace kite::crd {

using RuneRanges = std::vector<std::pair<char32_t, char32_t>>;

// Zero-width assertions of the program.
enum AssertKind : uint8_t { kBeginText, kEndText, kBeginLine, kEndLine, kWordBoundary, kNoWordBoundary };

namespace {

constexpr char32_t kMaxRune = 0x10FFFF;
constexpr int kMaxRepeat = 1000;       // Go's limit on {n,m} counts
constexpr int kMaxNesting = 1000;      // Go's limit on group nesting
constexpr size_t kMaxProgram = 100000;  // instructions

struct Node {
  enum Kind { kEmpty, kClass, kAny, kAnyNotNL, kAssert, kConcat, kAlt, kRepeat } kind = kEmpty;
  RuneRanges ranges;
  AssertKind assert_kind = kBeginText;
  std::vector<std::unique_ptr<Node>> subs;
  int min = 0, max = 0;  // kRepeat; max -1 = unbounded
};

std::unique_ptr<Node> MakeNode(Node::Kind kind) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  return n;
}

RuneRanges Normalize(RuneRanges r) {
  std::sort(r.begin(), r.end());
  RuneRanges out;
  for (const auto& [lo, hi] : r) {
    if (!out.empty() && lo <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, hi);
    } else {
      out.emplace_back(lo, hi);
    }
  }
  return out;
}

RuneRanges Negate(const RuneRanges& in) {
  RuneRanges r = Normalize(in);
  RuneRanges out;
  char32_t next = 0;
  for (const auto& [lo, hi] : r) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= kMaxRune) out.emplace_back(next, kMaxRune);
  return out;
}

// ASCII case folding: adds the other case of every letter in the ranges.
RuneRanges FoldCase(const RuneRanges& in) {
  RuneRanges out = in;
  for (const auto& [lo, hi] : in) {
    char32_t a = std::max<char32_t>(lo, 'a'), b = std::min<char32_t>(hi, 'z');
    if (a <= b) out.emplace_back(a - 32, b - 32);
    a = std::max<char32_t>(lo, 'A');
    b = std::min<char32_t>(hi, 'Z');
    if (a <= b) out.emplace_back(a + 32, b + 32);
  }
  return Normalize(out);
}

bool IsWordChar(char32_t r) {
  return (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || r == '_';
}

std::optional<RuneRanges> PerlClass(char c) {
  switch (c) {
    case 'd': return RuneRanges{{'0', '9'}};
    case 'D': return Negate({{'0', '9'}});
    case 's': return RuneRanges{{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
    case 'S': return Negate({{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}});
    case 'w': return RuneRanges{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
    case 'W': return Negate({{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
    default: return std::nullopt;
  }
}

std::optional<RuneRanges> PosixClass(std::string_view name) {
  if (name == "alnum") return RuneRanges{{'0', '9'}, {'A', 'Z'}, {'a', 'z'}};
  if (name == "alpha") return RuneRanges{{'A', 'Z'}, {'a', 'z'}};
  if (name == "ascii") return RuneRanges{{0, 0x7F}};
  if (name == "blank") return RuneRanges{{'\t', '\t'}, {' ', ' '}};
  if (name == "cntrl") return RuneRanges{{0, 0x1F}, {0x7F, 0x7F}};
  if (name == "digit") return RuneRanges{{'0', '9'}};
  if (name == "graph") return RuneRanges{{'!', '~'}};
  if (name == "lower") return RuneRanges{{'a', 'z'}};
  if (name == "print") return RuneRanges{{' ', '~'}};
  if (name == "punct") return RuneRanges{{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}};
  if (name == "space") return RuneRanges{{'\t', '\r'}, {' ', ' '}};
  if (name == "upper") return RuneRanges{{'A', 'Z'}};
  if (name == "word") return RuneRanges{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
  if (name == "xdigit") return RuneRanges{{'0', '9'}, {'A', 'F'}, {'a', 'f'}};
  return std::nullopt;
}

// Unicode categories and scripts: exact for ASCII, approximate beyond (see regex.h).
std::optional<RuneRanges> UnicodeClass(std::string_view name) {
  static const RuneRanges kLu = {{'A', 'Z'}, {0xC0, 0xD6}, {0xD8, 0xDE}, {0x391, 0x3A9}, {0x410, 0x42F}};
  static const RuneRanges kLl = {{'a', 'z'}, {0xB5, 0xB5}, {0xDF, 0xF6}, {0xF8, 0xFF}, {0x3B1, 0x3C9},
                                 {0x430, 0x44F}};
  static const RuneRanges kLo = {{0xAA, 0xAA},     {0xBA, 0xBA},     {0x5D0, 0x5EA},   {0x620, 0x64A},
                                 {0x904, 0x939},   {0xE01, 0xE30},   {0x3041, 0x3096}, {0x30A1, 0x30FA},
                                 {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF},
                                 {0x20000, 0x2FA1F}};
  static const RuneRanges kLAll = {{'A', 'Z'},       {'a', 'z'},       {0xAA, 0xAA},     {0xB5, 0xB5},
                                   {0xBA, 0xBA},     {0xC0, 0xD6},     {0xD8, 0xF6},     {0xF8, 0x2C1},
                                   {0x370, 0x373},   {0x376, 0x377},   {0x37B, 0x37D},   {0x386, 0x386},
                                   {0x388, 0x3FF},   {0x400, 0x481},   {0x48A, 0x52F},   {0x531, 0x587},
                                   {0x5D0, 0x5EA},   {0x620, 0x64A},   {0x904, 0x939},   {0xE01, 0xE30},
                                   {0x10A0, 0x10FF}, {0x1E00, 0x1FFF}, {0x3041, 0x3096}, {0x30A1, 0x30FA},
                                   {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF},
                                   {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x20000, 0x2FA1F}};
  static const RuneRanges kNd = {{'0', '9'}, {0x660, 0x669}, {0x6F0, 0x6F9}, {0x966, 0x96F}, {0xFF10, 0xFF19}};
  static const RuneRanges kNl = {{0x2160, 0x2188}};
  static const RuneRanges kNo = {{0xB2, 0xB3}, {0xB9, 0xB9}, {0xBC, 0xBE}, {0x2460, 0x249B}};
  static const RuneRanges kP = {{'!', '#'},       {'%', '*'},       {',', '/'},       {':', ';'},
                                {'?', '@'},       {'[', ']'},       {'_', '_'},       {'{', '{'},
                                {'}', '}'},       {0xA1, 0xA1},     {0xA7, 0xA7},     {0xAB, 0xAB},
                                {0xB6, 0xB7},     {0xBB, 0xBB},     {0xBF, 0xBF},     {0x2010, 0x2027},
                                {0x2030, 0x205E}, {0x3001, 0x3003}, {0x3008, 0x3011}};
  static const RuneRanges kS = {{'$', '$'},       {'+', '+'},       {'<', '>'},       {'^', '^'},
                                {'`', '`'},       {'|', '|'},       {'~', '~'},       {0xA2, 0xA6},
                                {0xA8, 0xA9},     {0xAC, 0xAC},     {0xAE, 0xB1},     {0xB4, 0xB4},
                                {0xB8, 0xB8},     {0xD7, 0xD7},     {0xF7, 0xF7},     {0x2044, 0x2044},
                                {0x20A0, 0x20C0}, {0x2100, 0x214F}, {0x2190, 0x23FF}, {0x2500, 0x27BF},
                                {0x2900, 0x2BFF}, {0x1F000, 0x1FAFF}};
  static const RuneRanges kZs = {{' ', ' '}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A},
                                 {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}};
  static const RuneRanges kM = {{0x300, 0x36F},   {0x483, 0x489},   {0x591, 0x5BD},   {0x610, 0x61A},
                                {0x64B, 0x65F},   {0x900, 0x903},   {0x93A, 0x94F},   {0x1AB0, 0x1AFF},
                                {0x1DC0, 0x1DFF}, {0x20D0, 0x20FF}, {0xFE20, 0xFE2F}};
  static const RuneRanges kC = {{0, 0x1F}, {0x7F, 0x9F}, {0xAD, 0xAD}, {0xD800, 0xF8FF}};
  auto join = [](std::initializer_list<const RuneRanges*> parts) {
    RuneRanges out;
    for (const RuneRanges* p : parts) out.insert(out.end(), p->begin(), p->end());
    return Normalize(out);
  };
  if (name == "Any") return RuneRanges{{0, kMaxRune}};
  if (name == "L") return Normalize(kLAll);
  if (name == "Lu") return kLu;
  if (name == "Ll") return kLl;
  if (name == "Lt") return RuneRanges{{0x1C5, 0x1C5}, {0x1C8, 0x1C8}, {0x1CB, 0x1CB}, {0x1F2, 0x1F2}};
  if (name == "Lm") return RuneRanges{{0x2B0, 0x2C1}};
  if (name == "Lo") return kLo;
  if (name == "N") return join({&kNd, &kNl, &kNo});
  if (name == "Nd") return kNd;
  if (name == "Nl") return kNl;
  if (name == "No") return kNo;
  if (name == "P") return kP;
  if (name == "S") return kS;
  static const RuneRanges kZlp = {{0x2028, 0x2029}};
  if (name == "Z") return join({&kZs, &kZlp});
  if (name == "Zs") return kZs;
  if (name == "M" || name == "Mn") return kM;
  if (name == "C" || name == "Cc") return kC;
  if (name == "Latin") {
    return RuneRanges{{'A', 'Z'}, {'a', 'z'}, {0xAA, 0xAA}, {0xBA, 0xBA}, {0xC0, 0xD6},
                      {0xD8, 0xF6}, {0xF8, 0x24F}, {0x1E00, 0x1EFF}};
  }
  if (name == "Greek") return RuneRanges{{0x370, 0x3FF}, {0x1F00, 0x1FFF}};
  if (name == "Cyrillic") return RuneRanges{{0x400, 0x52F}};
  if (name == "Han") {
    return RuneRanges{{0x2E80, 0x2FDF}, {0x3005, 0x3005}, {0x3007, 0x3007}, {0x3021, 0x3029},
                      {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF}, {0x20000, 0x2FA1F}};
  }
  if (name == "Hiragana") return RuneRanges{{0x3041, 0x309F}};
  if (name == "Katakana") return RuneRanges{{0x30A0, 0x30FF}};
  if (name == "Hangul") return RuneRanges{{0x1100, 0x11FF}, {0x3130, 0x318F}, {0xAC00, 0xD7A3}};
  if (name == "Arabic") return RuneRanges{{0x600, 0x6FF}};
  if (name == "Hebrew") return RuneRanges{{0x591, 0x5F4}};
  return std::nullopt;
}

struct Flags {
  bool fold = false;       // i
  bool multiline = false;  // m
  bool dot_nl = false;     // s
};

class Parser {
 public:
  explicit Parser(std::string_view pattern) : p_(pattern) {}

  Result<std::unique_ptr<Node>> Parse() {
    Flags flags;
    std::unique_ptr<Node> n = ParseAlt(flags, 0);
    if (!error_.ok()) return error_;
    if (pos_ < p_.size()) {  // only a ')' stops the top level early
      Fail("unexpected )", p_);
      return error_;
    }
    return n;
  }

 private:
  // Records the first error; parsing unwinds when error_ is set.
  void Fail(std::string_view code, std::string_view expr) {
    if (error_.ok()) {
      error_ = InvalidArgumentError("error parsing regexp: " + std::string(code) + ": `" +
                                    std::string(expr) + "`");
    }
  }
  bool AtEnd() const { return pos_ >= p_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < p_.size() ? p_[pos_ + ahead] : '\0'; }

  char32_t NextRune() {
    int w = 1;
    char32_t r = DecodeRune(p_, pos_, &w);
    pos_ += static_cast<size_t>(w);
    return r;
  }

  std::unique_ptr<Node> ClassNode(RuneRanges ranges, const Flags& flags) {
    auto n = MakeNode(Node::kClass);
    n->ranges = flags.fold ? FoldCase(ranges) : Normalize(std::move(ranges));
    return n;
  }

  std::unique_ptr<Node> ParseAlt(Flags& flags, int depth) {
    if (depth > kMaxNesting) {
      Fail("expression nests too deeply", p_);
      return nullptr;
    }
    std::vector<std::unique_ptr<Node>> branches;
    branches.push_back(ParseConcat(flags, depth));
    while (error_.ok() && Peek() == '|' && !AtEnd()) {
      ++pos_;
      branches.push_back(ParseConcat(flags, depth));
    }
    if (!error_.ok()) return nullptr;
    if (branches.size() == 1) return std::move(branches[0]);
    auto n = MakeNode(Node::kAlt);
    n->subs = std::move(branches);
    return n;
  }

  // Parses "{n}", "{n,}", "{n,m}" at pos_; nullopt (pos_ unchanged) when it is not one.
  std::optional<std::pair<int, int>> ParseBraces() {
    size_t p = pos_ + 1;
    auto number = [&](int* out) {
      size_t start = p;
      long v = 0;
      while (p < p_.size() && p_[p] >= '0' && p_[p] <= '9') {
        v = std::min<long>(v * 10 + (p_[p] - '0'), 1000000);
        ++p;
      }
      *out = static_cast<int>(v);
      return p > start;
    };
    int min = 0, max = 0;
    if (!number(&min)) return std::nullopt;
    if (p < p_.size() && p_[p] == '}') {
      max = min;
    } else if (p < p_.size() && p_[p] == ',') {
      ++p;
      if (p < p_.size() && p_[p] == '}') {
        max = -1;
      } else if (!number(&max) || p >= p_.size() || p_[p] != '}') {
        return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
    pos_ = p + 1;
    return std::make_pair(min, max);
  }

  std::unique_ptr<Node> ParseConcat(Flags& flags, int depth) {
    auto concat = MakeNode(Node::kConcat);
    std::string last_repeat;  // text of the repetition operator just applied, if any
    while (error_.ok() && !AtEnd() && Peek() != '|' && Peek() != ')') {
      char c = Peek();
      size_t op_start = pos_;
      if (c == '*' || c == '+' || c == '?' || c == '{') {
        int min = 0, max = 0;
        if (c == '{') {
          auto braces = ParseBraces();
          if (!braces) {  // a '{' that does not start a repeat is a literal
            ++pos_;
            concat->subs.push_back(ClassNode({{'{', '{'}}, flags));
            last_repeat.clear();
            continue;
          }
          std::tie(min, max) = *braces;
        } else {
          ++pos_;
          min = c == '+' ? 1 : 0;
          max = c == '?' ? 1 : -1;
        }
        if (Peek() == '?' && !AtEnd()) ++pos_;  // non-greedy: same language
        std::string op(p_.substr(op_start, pos_ - op_start));
        if (!last_repeat.empty()) {
          Fail("invalid nested repetition operator", last_repeat + op);
          return nullptr;
        }
        if (concat->subs.empty()) {
          Fail("missing argument to repetition operator", op);
          return nullptr;
        }
        if (min > kMaxRepeat || max > kMaxRepeat || (max >= 0 && max < min)) {
          Fail("invalid repeat count", op);
          return nullptr;
        }
        auto rep = MakeNode(Node::kRepeat);
        rep->min = min;
        rep->max = max;
        rep->subs.push_back(std::move(concat->subs.back()));
        concat->subs.back() = std::move(rep);
        last_repeat = op;
        continue;
      }
      last_repeat.clear();
      switch (c) {
        case '(': {
          std::unique_ptr<Node> group = ParseGroup(flags, depth);
          if (group) concat->subs.push_back(std::move(group));
          break;
        }
        case '[':
          concat->subs.push_back(ParseClass(flags));
          break;
        case '.':
          ++pos_;
          concat->subs.push_back(MakeNode(flags.dot_nl ? Node::kAny : Node::kAnyNotNL));
          break;
        case '^':
        case '$': {
          ++pos_;
          auto n = MakeNode(Node::kAssert);
          if (c == '^') {
            n->assert_kind = flags.multiline ? kBeginLine : kBeginText;
          } else {
            n->assert_kind = flags.multiline ? kEndLine : kEndText;
          }
          concat->subs.push_back(std::move(n));
          break;
        }
        case '\\':
          ParseEscapeOutsideClass(flags, concat.get());
          break;
        default: {
          char32_t r = NextRune();
          concat->subs.push_back(ClassNode({{r, r}}, flags));
        }
      }
    }
    if (!error_.ok()) return nullptr;
    if (concat->subs.size() == 1) return std::move(concat->subs[0]);
    if (concat->subs.empty()) return MakeNode(Node::kEmpty);
    return concat;
  }

  // Returns nullptr for a flag-only group "(?i)", which changes `flags` in place.
  std::unique_ptr<Node> ParseGroup(Flags& flags, int depth) {
    size_t start = pos_;
    ++pos_;  // '('
    Flags inner = flags;
    if (Peek() == '?') {
      if (p_.substr(pos_, 3) == "?P<" || (p_.substr(pos_, 2) == "?<" && Peek(2) != '=' && Peek(2) != '!')) {
        pos_ += Peek(1) == 'P' ? 3 : 2;
        size_t name_start = pos_;
        while (!AtEnd() && Peek() != '>') ++pos_;
        std::string_view name = p_.substr(name_start, pos_ - name_start);
        bool ok = !AtEnd() && !name.empty();
        for (char ch : name) ok = ok && (IsWordChar(static_cast<unsigned char>(ch)));
        if (!ok) {
          Fail("invalid named capture", p_.substr(start, AtEnd() ? std::string_view::npos : pos_ - start + 1));
          return nullptr;
        }
        ++pos_;  // '>'
      } else {
        ++pos_;  // '?'
        bool negate = false, any = false;
        while (!AtEnd() && Peek() != ')' && Peek() != ':') {
          char f = Peek();
          if (f == '-' && !negate) {
            negate = true;
          } else if (f == 'i' || f == 'm' || f == 's' || f == 'U') {
            if (f == 'i') inner.fold = !negate;
            if (f == 'm') inner.multiline = !negate;
            if (f == 's') inner.dot_nl = !negate;
            any = true;
          } else {
            Fail("invalid or unsupported Perl syntax", p_.substr(start, pos_ - start + 1));
            return nullptr;
          }
          ++pos_;
        }
        if (AtEnd() || (!any && !negate && Peek() == ')') || (negate && p_[pos_ - 1] == '-')) {
          Fail(AtEnd() ? "missing closing )" : "invalid or unsupported Perl syntax",
               AtEnd() ? p_ : p_.substr(start, pos_ - start + 1));
          return nullptr;
        }
        if (Peek() == ')') {  // "(?i)": flags for the rest of the enclosing group
          ++pos_;
          flags = inner;
          return nullptr;
        }
        ++pos_;  // ':'
      }
    }
    std::unique_ptr<Node> body = ParseAlt(inner, depth + 1);
    if (!error_.ok()) return nullptr;
    if (AtEnd() || Peek() != ')') {
      Fail("missing closing )", p_);
      return nullptr;
    }
    ++pos_;
    return body;
  }

  // One escape at pos_ ('\\'): a rune, a class, or (outside classes) an assertion or \Q..\E.
  struct Escape {
    enum Kind { kRune, kClass, kAssert, kQuote } kind = kRune;
    char32_t rune = 0;
    RuneRanges ranges;
    AssertKind assert_kind = kBeginText;
  };

  std::optional<Escape> ParseEscape(bool in_class) {
    size_t start = pos_;
    ++pos_;  // '\\'
    if (AtEnd()) {
      Fail("trailing backslash at end of expression", "");
      return std::nullopt;
    }
    Escape e;
    char c = Peek();
    auto invalid = [&]() -> std::optional<Escape> {
      int w = 1;
      DecodeRune(p_, pos_, &w);
      Fail("invalid escape sequence", p_.substr(start, pos_ - start + static_cast<size_t>(w)));
      return std::nullopt;
    };
    if (c >= '1' && c <= '7' && !(Peek(1) >= '0' && Peek(1) <= '7')) return invalid();
    if (c >= '0' && c <= '7') {
      int v = 0;
      for (int i = 0; i < 3 && Peek() >= '0' && Peek() <= '7'; ++i) v = v * 8 + (p_[pos_++] - '0');
      e.rune = static_cast<char32_t>(v);
      return e;
    }
    if (c == '8' || c == '9') return invalid();
    auto hex = [](char h) -> int {
      if (h >= '0' && h <= '9') return h - '0';
      if (h >= 'a' && h <= 'f') return h - 'a' + 10;
      if (h >= 'A' && h <= 'F') return h - 'A' + 10;
      return -1;
    };
    switch (c) {
      case 'a': ++pos_; e.rune = 7; return e;
      case 'f': ++pos_; e.rune = '\f'; return e;
      case 'n': ++pos_; e.rune = '\n'; return e;
      case 'r': ++pos_; e.rune = '\r'; return e;
      case 't': ++pos_; e.rune = '\t'; return e;
      case 'v': ++pos_; e.rune = '\v'; return e;
      case 'x': {
        ++pos_;
        if (Peek() == '{') {
          ++pos_;
          uint32_t v = 0;
          size_t digits = 0;
          while (!AtEnd() && hex(Peek()) >= 0) {
            v = std::min<uint32_t>(v * 16 + static_cast<uint32_t>(hex(Peek())), 0x110000);
            ++pos_;
            ++digits;
          }
          if (AtEnd() || Peek() != '}' || digits == 0 || v > kMaxRune) {
            Fail("invalid escape sequence", p_.substr(start, (AtEnd() ? pos_ : pos_ + 1) - start));
            return std::nullopt;
          }
          ++pos_;
          e.rune = v;
          return e;
        }
        if (hex(Peek()) < 0 || hex(Peek(1)) < 0) {
          Fail("invalid escape sequence", p_.substr(start, std::min(pos_ + 2, p_.size()) - start));
          return std::nullopt;
        }
        e.rune = static_cast<char32_t>(hex(Peek()) * 16 + hex(Peek(1)));
        pos_ += 2;
        return e;
      }
      case 'd': case 'D': case 's': case 'S': case 'w': case 'W':
        ++pos_;
        e.kind = Escape::kClass;
        e.ranges = *PerlClass(c);
        return e;
      case 'p':
      case 'P': {
        ++pos_;
        bool negate = c == 'P';
        std::string name;
        if (Peek() == '{') {
          size_t close = p_.find('}', pos_);
          if (close == std::string_view::npos) {
            Fail("invalid character class range", p_.substr(start));
            return std::nullopt;
          }
          name = std::string(p_.substr(pos_ + 1, close - pos_ - 1));
          pos_ = close + 1;
          if (!name.empty() && name[0] == '^') {
            negate = !negate;
            name.erase(0, 1);
          }
        } else if (!AtEnd()) {
          name = std::string(1, Peek());
          ++pos_;
        }
        std::optional<RuneRanges> r = UnicodeClass(name);
        if (!r) {
          Fail("invalid character class range", p_.substr(start, pos_ - start));
          return std::nullopt;
        }
        e.kind = Escape::kClass;
        e.ranges = negate ? Negate(*r) : *r;
        return e;
      }
      case 'b': case 'B': case 'A': case 'z':
        if (in_class) return invalid();
        ++pos_;
        e.kind = Escape::kAssert;
        e.assert_kind = c == 'b' ? kWordBoundary : c == 'B' ? kNoWordBoundary : c == 'A' ? kBeginText : kEndText;
        return e;
      case 'Q':
        if (in_class) return invalid();
        ++pos_;
        e.kind = Escape::kQuote;
        return e;
      default:
        break;
    }
    unsigned char uc = static_cast<unsigned char>(c);
    if (uc < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      ++pos_;
      e.rune = uc;
      return e;
    }
    return invalid();
  }

  void ParseEscapeOutsideClass(const Flags& flags, Node* concat) {
    std::optional<Escape> e = ParseEscape(false);
    if (!e) return;
    switch (e->kind) {
      case Escape::kRune:
        concat->subs.push_back(ClassNode({{e->rune, e->rune}}, flags));
        break;
      case Escape::kClass:
        concat->subs.push_back(ClassNode(e->ranges, flags));
        break;
      case Escape::kAssert: {
        auto n = MakeNode(Node::kAssert);
        n->assert_kind = e->assert_kind;
        concat->subs.push_back(std::move(n));
        break;
      }
      case Escape::kQuote: {
        size_t end = p_.find("\\E", pos_);
        std::string_view lit = p_.substr(pos_, end == std::string_view::npos ? std::string_view::npos : end - pos_);
        for (size_t i = 0; i < lit.size();) {
          int w = 1;
          char32_t r = DecodeRune(lit, i, &w);
          concat->subs.push_back(ClassNode({{r, r}}, flags));
          i += static_cast<size_t>(w);
        }
        pos_ = end == std::string_view::npos ? p_.size() : end + 2;
        break;
      }
    }
  }

  std::unique_ptr<Node> ParseClass(const Flags& flags) {
    size_t start = pos_;
    ++pos_;  // '['
    bool negate = false;
    if (Peek() == '^' && !AtEnd()) {
      negate = true;
      ++pos_;
    }
    RuneRanges ranges;
    bool first = true;
    while (true) {
      if (AtEnd()) {
        Fail("missing closing ]", p_.substr(start));
        return nullptr;
      }
      char c = Peek();
      if (c == ']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      if (c == '[' && Peek(1) == ':') {
        size_t close = p_.find(":]", pos_ + 2);
        if (close != std::string_view::npos) {
          std::string_view name = p_.substr(pos_ + 2, close - pos_ - 2);
          bool neg = !name.empty() && name[0] == '^';
          if (neg) name.remove_prefix(1);
          std::optional<RuneRanges> r = PosixClass(name);
          if (!r) {
            Fail("invalid character class range", p_.substr(pos_, close + 2 - pos_));
            return nullptr;
          }
          RuneRanges add = neg ? Negate(*r) : *r;
          ranges.insert(ranges.end(), add.begin(), add.end());
          pos_ = close + 2;
          continue;
        }
      }
      size_t item_start = pos_;
      char32_t lo = 0;
      if (c == '\\') {
        std::optional<Escape> e = ParseEscape(true);
        if (!e) return nullptr;
        if (e->kind == Escape::kClass) {
          ranges.insert(ranges.end(), e->ranges.begin(), e->ranges.end());
          continue;
        }
        lo = e->rune;
      } else {
        lo = NextRune();
      }
      char32_t hi = lo;
      if (Peek() == '-' && pos_ + 1 < p_.size() && Peek(1) != ']') {
        ++pos_;
        if (Peek() == '\\') {
          std::optional<Escape> e = ParseEscape(true);
          if (!e) return nullptr;
          if (e->kind != Escape::kRune) {
            Fail("invalid character class range", p_.substr(item_start, pos_ - item_start));
            return nullptr;
          }
          hi = e->rune;
        } else {
          hi = NextRune();
        }
        if (hi < lo) {
          Fail("invalid character class range", p_.substr(item_start, pos_ - item_start));
          return nullptr;
        }
      }
      ranges.emplace_back(lo, hi);
    }
    if (flags.fold) ranges = FoldCase(ranges);
    auto n = MakeNode(Node::kClass);
    n->ranges = negate ? Negate(ranges) : Normalize(ranges);
    return n;
  }

  std::string_view p_;
  size_t pos_ = 0;
  Status error_;
};

}  // namespace

struct Regex::Inst {
  enum Op : uint8_t { kClass, kAny, kAnyNotNL, kSplit, kJmp, kAssert, kMatch } op = kMatch;
  AssertKind assert_kind = kBeginText;
  int x = 0, y = 0;
  RuneRanges ranges;
};

namespace {

class Compiler {
 public:
  bool Emit(const Node& n) {
    if (prog_.size() > kMaxProgram) return false;
    using Inst = Regex::Inst;
    switch (n.kind) {
      case Node::kEmpty:
        return true;
      case Node::kClass: {
        Inst i;
        i.op = Inst::kClass;
        i.ranges = n.ranges;
        prog_.push_back(std::move(i));
        return true;
      }
      case Node::kAny:
      case Node::kAnyNotNL: {
        Inst i;
        i.op = n.kind == Node::kAny ? Inst::kAny : Inst::kAnyNotNL;
        prog_.push_back(std::move(i));
        return true;
      }
      case Node::kAssert: {
        Inst i;
        i.op = Inst::kAssert;
        i.assert_kind = n.assert_kind;
        prog_.push_back(std::move(i));
        return true;
      }
      case Node::kConcat:
        for (const auto& s : n.subs) {
          if (!Emit(*s)) return false;
        }
        return true;
      case Node::kAlt: {
        std::vector<size_t> jumps;
        for (size_t k = 0; k + 1 < n.subs.size(); ++k) {
          size_t split = Push(Inst::kSplit);
          prog_[split].x = static_cast<int>(prog_.size());
          if (!Emit(*n.subs[k])) return false;
          jumps.push_back(Push(Inst::kJmp));
          prog_[split].y = static_cast<int>(prog_.size());
        }
        if (!Emit(*n.subs.back())) return false;
        for (size_t j : jumps) prog_[j].x = static_cast<int>(prog_.size());
        return true;
      }
      case Node::kRepeat: {
        const Node& sub = *n.subs[0];
        for (int k = 0; k < n.min; ++k) {
          if (!Emit(sub)) return false;
        }
        if (n.max < 0) {
          size_t split = Push(Inst::kSplit);
          prog_[split].x = static_cast<int>(prog_.size());
          if (!Emit(sub)) return false;
          size_t jmp = Push(Inst::kJmp);
          prog_[jmp].x = static_cast<int>(split);
          prog_[split].y = static_cast<int>(prog_.size());
          return true;
        }
        std::vector<size_t> splits;
        for (int k = n.min; k < n.max; ++k) {
          splits.push_back(Push(Inst::kSplit));
          prog_[splits.back()].x = static_cast<int>(prog_.size());
          if (!Emit(sub)) return false;
        }
        for (size_t s : splits) prog_[s].y = static_cast<int>(prog_.size());
        return true;
      }
    }
    return true;
  }

  size_t Push(Regex::Inst::Op op) {
    Regex::Inst i;
    i.op = op;
    prog_.push_back(std::move(i));
    return prog_.size() - 1;
  }

  std::vector<Regex::Inst> prog_;
};

// A set of program counters with O(1) insert, membership and clear.
class PcSet {
 public:
  explicit PcSet(size_t n) : sparse_(n), dense_(n) {}
  bool Contains(int pc) const {
    size_t i = sparse_[static_cast<size_t>(pc)];
    return i < size_ && dense_[i] == pc;
  }
  void Insert(int pc) {
    sparse_[static_cast<size_t>(pc)] = size_;
    dense_[size_++] = pc;
  }
  void Clear() { size_ = 0; }
  size_t size() const { return size_; }
  int at(size_t i) const { return dense_[i]; }

 private:
  std::vector<size_t> sparse_;
  std::vector<int> dense_;
  size_t size_ = 0;
};

bool InRanges(const RuneRanges& ranges, char32_t r) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), std::pair<char32_t, char32_t>(r, kMaxRune + 1));
  if (it == ranges.begin()) return false;
  --it;
  return r >= it->first && r <= it->second;
}

}  // namespace

Result<Regex> Regex::Compile(std::string_view pattern) {
  Parser parser(pattern);
  Result<std::unique_ptr<Node>> ast = parser.Parse();
  if (!ast.ok()) return ast.status();
  Compiler compiler;
  if (!compiler.Emit(**ast) || compiler.prog_.size() > kMaxProgram) {
    return InvalidArgumentError("error parsing regexp: expression too large");
  }
  compiler.Push(Inst::kMatch);
  Regex re;
  re.pattern_ = std::string(pattern);
  re.anchored_start_ = compiler.prog_[0].op == Inst::kAssert && compiler.prog_[0].assert_kind == kBeginText;
  re.program_ = std::make_shared<const std::vector<Inst>>(std::move(compiler.prog_));
  return re;
}

bool Regex::Search(std::string_view text) const {
  const std::vector<Inst>& prog = *program_;
  PcSet current(prog.size()), next(prog.size());
  std::vector<int> stack;
  char32_t prev = 0;
  bool has_prev = false;

  // Adds pc and everything reachable from it without consuming input; true on Match.
  auto add = [&](PcSet& set, int start_pc, size_t pos, char32_t next_rune, bool has_next) {
    stack.push_back(start_pc);
    while (!stack.empty()) {
      int pc = stack.back();
      stack.pop_back();
      if (set.Contains(pc)) continue;
      set.Insert(pc);
      const Inst& inst = prog[static_cast<size_t>(pc)];
      switch (inst.op) {
        case Inst::kMatch:
          stack.clear();
          return true;
        case Inst::kJmp:
          stack.push_back(inst.x);
          break;
        case Inst::kSplit:
          stack.push_back(inst.y);
          stack.push_back(inst.x);
          break;
        case Inst::kAssert: {
          bool ok = false;
          switch (inst.assert_kind) {
            case kBeginText: ok = pos == 0; break;
            case kEndText: ok = pos == text.size(); break;
            case kBeginLine: ok = pos == 0 || (has_prev && prev == '\n'); break;
            case kEndLine: ok = pos == text.size() || (has_next && next_rune == '\n'); break;
            case kWordBoundary:
            case kNoWordBoundary: {
              bool boundary = (has_prev && IsWordChar(prev)) != (has_next && IsWordChar(next_rune));
              ok = inst.assert_kind == kWordBoundary ? boundary : !boundary;
              break;
            }
          }
          if (ok) stack.push_back(pc + 1);
          break;
        }
        default:
          break;  // consuming instructions wait for the next rune
      }
    }
    return false;
  };

  size_t pos = 0;
  while (true) {
    int width = 0;
    char32_t rune = 0;
    bool has_rune = pos < text.size();
    if (has_rune) rune = DecodeRune(text, pos, &width);
    if ((pos == 0 || !anchored_start_) && add(current, 0, pos, rune, has_rune)) return true;
    if (!has_rune) return false;
    if (current.size() == 0 && anchored_start_) return false;
    // The step's successors see the position after this rune, with this rune as `prev`.
    size_t next_pos = pos + static_cast<size_t>(width);
    int next_width = 0;
    char32_t next_rune = 0;
    bool has_next = next_pos < text.size();
    if (has_next) next_rune = DecodeRune(text, next_pos, &next_width);
    prev = rune;
    has_prev = true;
    for (size_t i = 0; i < current.size(); ++i) {
      int pc = current.at(i);
      const Inst& inst = prog[static_cast<size_t>(pc)];
      bool consumes = false;
      switch (inst.op) {
        case Inst::kClass: consumes = InRanges(inst.ranges, rune); break;
        case Inst::kAny: consumes = true; break;
        case Inst::kAnyNotNL: consumes = rune != '\n'; break;
        default: break;
      }
      if (consumes && add(next, pc + 1, next_pos, next_rune, has_next)) return true;
    }
    std::swap(current, next);
    next.Clear();
    pos = next_pos;
  }
}

}  // namespace kite::crd
