// Regex: the regular expressions of CRD schemas (`pattern`), with the syntax and matching
// semantics Kubernetes gets from Go's regexp package (RE2 syntax, leftmost search anywhere
// in the string, `^`/`$` at the text's ends unless (?m)).
//
// Why not std::regex: libstdc++'s matcher recurses once per input character, so a long
// string in a custom object would overflow the stack; it also accepts ECMAScript constructs
// (backreferences, lookahead) that Kubernetes rejects. This engine compiles to a small
// program run by a Pike VM: time O(len(text) * len(program)), memory O(len(program)), no
// recursion while matching.
//
// Supported: literals and escapes (\n \t \x41 \x{263a} \Q...\E, escaped punctuation),
// ., character classes with ranges and negation, POSIX classes ([[:alpha:]]), Perl classes
// (\d \s \w and negations; ASCII as in Go), ^ $ \A \z \b \B, groups ((...), (?:...),
// (?P<name>...), (?<name>...)), flags (?i) (?m) (?s) (?U) and (?flags:...), alternation,
// repetition * + ? {n} {n,} {n,m} (greedy or lazy; counts up to 1000).
// Limitations: case folding ((?i)) is ASCII-only; Unicode classes (\pL, \p{Greek}, ...)
// cover ASCII exactly and other scripts approximately; programs are limited to 100000
// instructions ("expression too large").
//
// Errors read like Go's: "error parsing regexp: missing closing ): `(a`".
// Thread-safety: a compiled Regex is immutable and may be shared between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"

namespace kite::crd {

class Regex {
 public:
  // kInvalidArgument with Go's message when `pattern` is not a valid Go regular expression.
  static Result<Regex> Compile(std::string_view pattern);

  // True when the pattern matches somewhere in `text` (Go's Regexp.MatchString).
  bool Search(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

  struct Inst;  // the compiled program's instructions (regex.cc)

 private:
  std::string pattern_;
  std::shared_ptr<const std::vector<Inst>> program_;
  bool anchored_start_ = false;  // the program begins with \A: only try at offset 0
};

}  // namespace kite::crd
