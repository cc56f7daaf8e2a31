// resource.Quantity: parsing with Kubernetes' grammar and errors, exact comparison, and the
// canonical text Kubernetes stores (expected strings are what resource.MustParse(x).String()
// prints in Kubernetes).
#include <string>

#include <catch2/catch.hpp>

#include "src/server/admission/quantity.h"

using kite::admission::Quantity;

namespace {

std::string Canonical(const char* text) {
  auto q = Quantity::Parse(text);
  REQUIRE(q.ok());
  return q->String();
}

Quantity Q(const char* text) {
  auto q = Quantity::Parse(text);
  REQUIRE(q.ok());
  return *q;
}

constexpr char kFormatError[] =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

}  // namespace

TEST_CASE("quantities print in Kubernetes' canonical form") {
  CHECK(Canonical("100m") == "100m");
  CHECK(Canonical("0.5") == "500m");
  CHECK(Canonical("1.0") == "1");
  CHECK(Canonical("1000") == "1k");
  CHECK(Canonical("1500m") == "1500m");
  CHECK(Canonical("10k") == "10k");
  CHECK(Canonical("512") == "512");
  CHECK(Canonical("0") == "0");
  CHECK(Canonical("00") == "0");
  CHECK(Canonical("-1") == "-1");
  CHECK(Canonical("500u") == "500u");
  CHECK(Canonical("1Gi") == "1Gi");
  CHECK(Canonical("1024Mi") == "1Gi");
  CHECK(Canonical("1536Mi") == "1536Mi");
  CHECK(Canonical("1.5Gi") == "1536Mi");
  CHECK(Canonical("100Ki") == "100Ki");
  CHECK(Canonical("0.1Gi") == "107374182400m");  // fractional bytes fall back to decimal
  CHECK(Canonical("512Ki") == "512Ki");
  CHECK(Canonical("1e3") == "1e3");
  CHECK(Canonical("1E3") == "1e3");
  CHECK(Canonical("10e3") == "10e3");
  CHECK(Canonical("1.5e3") == "1500");
  CHECK(Canonical("2M") == "2M");
}

TEST_CASE("quantities finer than a nanounit round up to 1n") {
  CHECK(Canonical("0.0000000001") == "1n");
  CHECK(Canonical("1e-12") == "1e-9");
}

TEST_CASE("binary quantities are capped at 2^63-1") {
  CHECK(Canonical("99999999999999999999999999999999999999999Ei") == "9223372036854775807");
  CHECK(Canonical("8Ei") == "9223372036854775807");
}

TEST_CASE("malformed quantities are rejected with Kubernetes' messages") {
  for (const char* bad : {"", "abc", "1.2.3", "1 ", "1.5.", "x1", "1Qi", "1Kib"}) {
    INFO(bad);
    auto q = Quantity::Parse(bad);
    REQUIRE_FALSE(q.ok());
    CHECK(q.status().message() == kFormatError);
  }
  for (const char* bad : {"1e", "1ki", "1mm", "1m1", "--1", "1Mm"}) {
    INFO(bad);
    auto q = Quantity::Parse(bad);
    REQUIRE_FALSE(q.ok());
    CHECK(q.status().message() == "unable to parse quantity's suffix");
  }
}

TEST_CASE("quantities compare exactly across formats") {
  CHECK(Q("1").Compare(Q("1000m")) == 0);
  CHECK(Q("1Gi").Compare(Q("1G")) > 0);
  CHECK(Q("500m").Compare(Q("1")) < 0);
  CHECK(Q("-1").Compare(Q("0")) < 0);
  CHECK(Q("-2").Compare(Q("-1")) < 0);
  CHECK(Q("1e3").Compare(Q("1k")) == 0);
  CHECK(Q("1Ki").Compare(Q("1024")) == 0);
  CHECK(Q("0.1").Compare(Q("100m")) == 0);
  CHECK(Q("123456789012345678901234567890").Compare(Q("123456789012345678901234567891")) < 0);
}

TEST_CASE("Value and MilliValue round up") {
  CHECK(Q("100m").MilliValue() == 100);
  CHECK(Q("100m").Value() == 1);
  CHECK(Q("1.5").Value() == 2);
  CHECK(Q("2Gi").Value() == 2147483648);
  CHECK(Q("1n").MilliValue() == 1);
  CHECK(Q("1e30").Value() == INT64_MAX);
  CHECK(Q("-1500m").Value() == -2);
}

TEST_CASE("RoundUp to milli, as defaulting of resource lists does") {
  Quantity q = Q("0.0001");
  q.RoundUp(-3);
  CHECK(q.String() == "1m");
  Quantity r = Q("250m");
  r.RoundUp(-3);
  CHECK(r.String() == "250m");
}

TEST_CASE("absurd exponents do not crash") {
  CHECK(Quantity::Parse("1e99999999999999999999").ok() == false);  // Go's ParseInt overflows
  CHECK(Canonical("+") == "0");  // as in Kubernetes: no digits read as zero
  CHECK(Canonical("Gi") == "0");
  CHECK(Quantity::Parse("1e100000").ok());
  CHECK(Quantity::Parse("1e-100000").ok());
  CHECK(Canonical("1e-100000") == "1e-9");
  CHECK(Quantity::Parse(std::string(5000, '9').c_str()).ok());
}

TEST_CASE("quantities add and subtract exactly, keeping the receiver's format") {
  CHECK(Q("500m").Add(Q("500m")).String() == "1");
  CHECK(Q("1Gi").Add(Q("512Mi")).String() == "1536Mi");
  CHECK(Q("0").Add(Q("1Gi")).String() == "1Gi");
  CHECK(Q("1k").Add(Q("24")).String() == "1024");
  CHECK(Q("1e3").Add(Q("1")).String() == "1001");
  CHECK(Q("100m").Add(Q("1.5")).String() == "1600m");
  CHECK(Q("1Ki").Add(Q("1")).String() == "1025");
  CHECK(Q("3Gi").Add(Q("1Gi")).String() == "4Gi");
  CHECK(Q("2").Sub(Q("500m")).String() == "1500m");
  CHECK(Q("1Gi").Sub(Q("1Gi")).String() == "0");
  CHECK(Q("1").Sub(Q("3")).String() == "-2");
  CHECK(Q("2Gi").Sub(Q("512Mi")).String() == "1536Mi");
}

TEST_CASE("Add and Sub follow apimachinery's format rule and stay exact") {
  // A zero receiver takes the other operand's format, in Sub as in Add.
  CHECK(Q("0").Sub(Q("1Gi")).String() == "-1Gi");
  CHECK(Q("0").Add(Quantity::FromInt(0, Quantity::Format::kBinarySI)).format() ==
        Quantity::Format::kBinarySI);
  CHECK(Q("1Gi").Add(Q("1G")).format() == Quantity::Format::kBinarySI);
  CHECK(Q("1G").Add(Q("1Gi")).format() == Quantity::Format::kDecimalSI);
  CHECK(Q("1e3").Add(Q("500m")).String() == "1000500e-3");
  // Fractional binary results print in decimal, as Kubernetes prints them.
  CHECK(Q("1Ki").Sub(Q("1023.5")).String() == "500m");
  CHECK(Q("-1").Add(Q("-500m")).String() == "-1500m");
  CHECK(Q("-1").Sub(Q("-3")).String() == "2");
  CHECK(Q("12345678901234567890").Add(Q("1n")).String() == "12345678901234567890000000001n");
  // Unlike Parse, sums are not capped at 2^63-1.
  CHECK(Q("4Ei").Add(Q("4Ei")).String() == "8Ei");
  // The operands are left alone.
  Quantity a = Q("1");
  CHECK(a.Add(Q("1")).String() == "2");
  CHECK(a.String() == "1");
}

TEST_CASE("Add of operands too far apart for 36 digits rounds, without crashing") {
  CHECK(Q("1e30").Add(Q("1n")).Compare(Q("1e30")) > 0);
  CHECK(Q("1e30").Sub(Q("1n")).Compare(Q("1e30")) <= 0);
  CHECK(Q("1e100000").Add(Q("1e-100000")).Compare(Q("1e100000")) > 0);
  CHECK(Q("1.23456789012345678901234567890123456Ei").Add(Q("1n")).Compare(Q("1.2345Ei")) > 0);
  Quantity big = Q(std::string(5000, '9').c_str());
  CHECK(big.Add(big).Compare(big) > 0);
}
