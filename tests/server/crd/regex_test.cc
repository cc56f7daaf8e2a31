// The Go-syntax regular expressions of CRD patterns, string formats, and Go's value printing.
#include <catch2/catch.hpp>

#include <string>

#include "src/server/crd/regex.h"
#include "src/server/crd/string_formats.h"
#include "src/server/crd/value_format.h"
#include "src/server/json/json_util.h"

namespace kite::crd {
namespace {

bool Matches(const std::string& pattern, const std::string& text) {
  Result<Regex> re = Regex::Compile(pattern);
  INFO(pattern << (re.ok() ? "" : " -> " + re.status().message()));
  REQUIRE(re.ok());
  return re->Search(text);
}

std::string CompileError(const std::string& pattern) {
  Result<Regex> re = Regex::Compile(pattern);
  return re.ok() ? "" : re.status().message();
}

}  // namespace

TEST_CASE("regex: matching follows Go's regexp") {
  CHECK(Matches("abc", "xxabcxx"));  // unanchored search
  CHECK_FALSE(Matches("^abc$", "xabc"));
  CHECK(Matches("^a.c$", "abc"));
  CHECK_FALSE(Matches("^a.c$", "a\nc"));
  CHECK(Matches("(?s)^a.c$", "a\nc"));
  CHECK_FALSE(Matches("^abc$", "abc\n"));  // $ is the end of text, not before a final newline
  CHECK(Matches("(?m)^b$", "a\nb\nc"));
  CHECK(Matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "my-name"));
  CHECK_FALSE(Matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "-bad"));
  CHECK(Matches(R"(^\d{3}-\d{2,4}$)", "123-4567"));
  CHECK_FALSE(Matches(R"(^\d{3}-\d{2,4}$)", "123-45678"));
  CHECK(Matches(R"(^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$)", "*/5 1 * * 0"));
  CHECK_FALSE(Matches(R"(^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$)", "* * * *"));
  CHECK(Matches("(?i)^hello$", "HeLLo"));
  CHECK(Matches(R"(\bword\b)", "a word here"));
  CHECK_FALSE(Matches(R"(\bword\b)", "swordfish"));
  CHECK(Matches("[[:upper:]][^[:digit:]]", "Ab"));
  CHECK(Matches(R"(^\x41\x{263a}$)", "A\u263a"));
  CHECK(Matches(R"(^\Q.*\E$)", ".*"));
  CHECK(Matches("^(?:ab|cd)+?$", "abcdab"));
  CHECK(Matches("^.$", "\u00e9"));  // one rune, two bytes
  CHECK(Matches(R"(^\pL+$)", "Grüße"));
  CHECK(Matches("^(a*)*$", "aaaa"));
  CHECK(Matches("^$", ""));
  CHECK(Matches("x*", ""));
}

TEST_CASE("regex: invalid patterns get Go's messages") {
  CHECK(CompileError("(abc") == "error parsing regexp: missing closing ): `(abc`");
  CHECK(CompileError("abc)") == "error parsing regexp: unexpected ): `abc)`");
  CHECK(CompileError("[a-") == "error parsing regexp: missing closing ]: `[a-`");
  CHECK(CompileError("[z-a]") == "error parsing regexp: invalid character class range: `z-a`");
  CHECK(CompileError("*a") == "error parsing regexp: missing argument to repetition operator: `*`");
  CHECK(CompileError("a**") == "error parsing regexp: invalid nested repetition operator: `**`");
  CHECK(CompileError("a{1001}") == "error parsing regexp: invalid repeat count: `{1001}`");
  CHECK(CompileError(R"(\1)") == "error parsing regexp: invalid escape sequence: `\\1`");
  CHECK(CompileError("(?=a)") == "error parsing regexp: invalid or unsupported Perl syntax: `(?=`");
  CHECK(CompileError("a\\") == "error parsing regexp: trailing backslash at end of expression: ``");
  CHECK(CompileError("(((a{1000}){1000}){1000})").find("expression too large") != std::string::npos);
  CHECK(CompileError(std::string(2000, '(') + std::string(2000, ')')).find("nests too deeply") != std::string::npos);
  CHECK(CompileError("a{2,}b{,3}") == "");  // "{,3}" is a literal, as in Go
}

TEST_CASE("regex: long input runs in linear time without recursion") {
  std::string text(256 * 1024, 'a');
  CHECK(Matches("^(a|b)*$", text));
  CHECK_FALSE(Matches("^(a|b)*c$", text));
  CHECK_FALSE(Matches("(x+x+)+y", std::string(5000, 'x')));  // catastrophic for backtracking engines
}

TEST_CASE("string formats") {
  CHECK(IsValidStringFormat("date-time", "2024-05-01T10:00:00Z"));
  CHECK(IsValidStringFormat("date-time", "2024-05-01t10:00:00.123+02:00"));
  CHECK_FALSE(IsValidStringFormat("date-time", "2024-05-01"));
  CHECK_FALSE(IsValidStringFormat("date-time", "2024-02-30T10:00:00Z"));
  CHECK(IsValidStringFormat("date", "2024-02-29"));
  CHECK_FALSE(IsValidStringFormat("date", "2023-02-29"));
  CHECK(IsValidStringFormat("byte", "aGVsbG8="));
  CHECK_FALSE(IsValidStringFormat("byte", "hello!"));
  CHECK(IsValidStringFormat("uuid", "123e4567-e89b-12d3-a456-426614174000"));
  CHECK_FALSE(IsValidStringFormat("uuid", "123e4567"));
  CHECK(IsValidStringFormat("ipv4", "10.0.0.1"));
  CHECK_FALSE(IsValidStringFormat("ipv4", "10.0.0.256"));
  CHECK(IsValidStringFormat("ipv6", "fe80::1"));
  CHECK_FALSE(IsValidStringFormat("ipv6", "10.0.0.1"));
  CHECK(IsValidStringFormat("cidr", "10.0.0.0/8"));
  CHECK_FALSE(IsValidStringFormat("cidr", "10.0.0.0/33"));
  CHECK(IsValidStringFormat("mac", "01:23:45:67:89:ab"));
  CHECK(IsValidStringFormat("hostname", "example.com"));
  CHECK_FALSE(IsValidStringFormat("hostname", "-bad-.com"));
  CHECK(IsValidStringFormat("duration", "1h30m"));
  CHECK(IsValidStringFormat("duration", "3 days"));
  CHECK_FALSE(IsValidStringFormat("duration", "soon"));
  CHECK(IsValidStringFormat("email", "someone@example.com"));
  CHECK_FALSE(IsValidStringFormat("email", "nobody"));
  CHECK(IsValidStringFormat("quantity", "500Mi"));
  CHECK(EffectiveFormat("string", "date-time") == "date-time");
  CHECK(EffectiveFormat("string", "int32") == "");
  CHECK(EffectiveFormat("integer", "int32") == "int32");
  CHECK(EffectiveFormat("integer", "uint32") == "");
  CHECK(EffectiveFormat("number", "double") == "double");
  CHECK(EffectiveFormat("boolean", "date") == "");
}

TEST_CASE("Go's printing of values") {
  CHECK(FormatGoFloat(1.5) == "1.5");
  CHECK(FormatGoFloat(100000) == "100000");
  CHECK(FormatGoFloat(1000000) == "1e+06");
  CHECK(FormatGoFloat(1234567) == "1.234567e+06");
  CHECK(FormatGoFloat(0.0001) == "0.0001");
  CHECK(FormatGoFloat(0.00001) == "1e-05");
  CHECK(FormatGoFloat(-2.5) == "-2.5");
  CHECK(FormatGoFloat(0) == "0");
  CHECK(GoQuote("a\"b\n\x01") == "\"a\\\"b\\n\\x01\"");
  Result<rapidjson::Document> doc = json::ParseJson(R"({"b":[1,"x",null,2.5],"a":true})");
  REQUIRE(doc.ok());
  CHECK(FormatBadValue(*doc) ==
        R"(map[string]interface {}{"a":true, "b":[]interface {}{1, "x", interface {}(nil), 2.5}})");
  CHECK(CanonicalJson(*doc) == R"({"a":true,"b":[1,"x",null,2.5]})");
  Result<rapidjson::Document> one = json::ParseJson("1");
  Result<rapidjson::Document> one_float = json::ParseJson("1.0");
  REQUIRE(one.ok());
  REQUIRE(one_float.ok());
  CHECK_FALSE(TypedDeepEqual(*one, *one_float));
  CHECK(RuneCount("äb") == 2);
}

}  // namespace kite::crd
