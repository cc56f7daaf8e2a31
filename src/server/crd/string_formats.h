// The `format`s of CRD schemas that Kubernetes validates, with the checks of kube-openapi's
// format registry (strfmt).
//
// Kubernetes ignores every other format: on a string (or untyped) node the names
// bsonobjectid, uri, email, hostname, ipv4, ipv6, cidr, mac, uuid, uuid3, uuid4, uuid5,
// isbn, isbn10, isbn13, creditcard, ssn, hexcolor, rgbcolor, byte, password, date,
// duration, date-time (datetime) and quantity are checked ('-' in a name is ignored, as
// kube-openapi normalizes names); on integers int32/int64 and on numbers float/double are
// kept but only take part in kube-openapi's type check (no range check, as in Kubernetes).
//
// Limitations: email, uri and creditcard use simplified checks (Go's net/mail, net/url and
// govalidator are more intricate); hostnames with non-ASCII letters follow regex.h's
// approximate Unicode classes.
// Thread-safety: all functions are thread-safe (shared regexes are built once).
#pragma once

#include <string>
#include <string_view>

namespace kite::crd {

// The format kube-openapi applies to a node of `type` ("" for untyped nodes), or "" when
// Kubernetes drops it. The returned name is `format` as written ("date-time").
std::string EffectiveFormat(std::string_view type, std::string_view format);

// True when `value` satisfies the string format `format` (one EffectiveFormat keeps for
// strings). Unknown names are treated as valid.
bool IsValidStringFormat(std::string_view format, std::string_view value);

// True when EffectiveFormat kept `format` as one of the string formats above.
bool IsStringFormat(std::string_view format);

}  // namespace kite::crd
