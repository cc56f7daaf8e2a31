#include "src/server/openapi/openapi_v2_proto.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <string_view>

#include "src/server/openapi/yaml_text.h"
#include "src/server/schema/protobuf_wire.h"

namespace kite::openapi {
namespace {

using rapidjson::Value;
using schema::WireType;

// One message's bytes, built field by field in field-number order. Singular scalars at
// their proto3 default are left out, as Go's proto.Marshal does.
class Message {
 public:
  void String(int field, std::string_view s) {
    if (!s.empty()) RepeatedString(field, s);
  }
  // An element of a repeated string field: written even when empty.
  void RepeatedString(int field, std::string_view s) {
    schema::AppendLengthDelimited(&bytes_, field, s);
  }
  void Bool(int field, bool b) {
    if (b) OneofBool(field, b);
  }
  // A bool inside a oneof is written even when false: that the oneof is set is the point.
  void OneofBool(int field, bool b) {
    schema::AppendTag(&bytes_, field, WireType::kVarint);
    schema::AppendVarint(&bytes_, b ? 1 : 0);
  }
  void Int64(int field, int64_t v) {
    if (v == 0) return;
    schema::AppendTag(&bytes_, field, WireType::kVarint);
    schema::AppendVarint(&bytes_, static_cast<uint64_t>(v));
  }
  void Double(int field, double d) {
    uint64_t bits = std::bit_cast<uint64_t>(d);
    if (bits == 0) return;
    schema::AppendTag(&bytes_, field, WireType::kFixed64);
    schema::AppendFixed64(&bytes_, bits);
  }
  // A present sub-message: written even when it has no fields.
  void Sub(int field, const Message& m) { schema::AppendLengthDelimited(&bytes_, field, m.bytes_); }

  std::string Take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

std::string_view View(const Value& s) { return {s.GetString(), s.GetStringLength()}; }

const Value* Get(const Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}
const Value* GetObject(const Value& obj, const char* key) {
  const Value* v = Get(obj, key);
  return v != nullptr && v->IsObject() ? v : nullptr;
}
const Value* GetArray(const Value& obj, const char* key) {
  const Value* v = Get(obj, key);
  return v != nullptr && v->IsArray() ? v : nullptr;
}
std::string_view GetString(const Value& obj, const char* key) {
  const Value* v = Get(obj, key);
  return v != nullptr && v->IsString() ? View(*v) : std::string_view();
}

// The field writers below read `key` of the JSON object `obj` and skip values of the
// wrong JSON type.
void StringField(Message& m, int field, const Value& obj, const char* key) {
  m.String(field, GetString(obj, key));
}
void BoolField(Message& m, int field, const Value& obj, const char* key) {
  const Value* v = Get(obj, key);
  if (v != nullptr && v->IsBool()) m.Bool(field, v->GetBool());
}
void Int64Field(Message& m, int field, const Value& obj, const char* key) {
  const Value* v = Get(obj, key);
  if (v != nullptr && v->IsInt64()) m.Int64(field, v->GetInt64());
}
void DoubleField(Message& m, int field, const Value& obj, const char* key) {
  const Value* v = Get(obj, key);
  if (v != nullptr && v->IsNumber()) m.Double(field, v->GetDouble());
}
void StringsField(Message& m, int field, const Value& obj, const char* key) {
  const Value* v = GetArray(obj, key);
  if (v == nullptr) return;
  for (const Value& item : v->GetArray()) {
    if (item.IsString()) m.RepeatedString(field, View(item));
  }
}

// Any { string yaml = 2; } (field 1, a google.protobuf.Any, is never set by the parser).
Message AnyOf(const Value& v) {
  Message any;
  any.String(2, ToYamlText(v));
  return any;
}
void AnyField(Message& m, int field, const Value& obj, const char* key) {
  const Value* v = Get(obj, key);
  if (v != nullptr) m.Sub(field, AnyOf(*v));
}
void AnysField(Message& m, int field, const Value& obj, const char* key) {
  const Value* v = GetArray(obj, key);
  if (v == nullptr) return;
  for (const Value& item : v->GetArray()) m.Sub(field, AnyOf(item));
}

// repeated NamedAny vendor_extension: every "x-" key, in document order.
void VendorExtensions(Message& m, int field, const Value& obj) {
  for (const auto& member : obj.GetObject()) {
    std::string_view name = View(member.name);
    if (!name.starts_with("x-")) continue;
    Message named;
    named.String(1, name);
    named.Sub(2, AnyOf(member.value));
    m.Sub(field, named);
  }
}

// repeated Named<T> { string name = 1; T value = 2; } for every member of a JSON object
// whose value is an object, converted by `convert`.
template <class Convert>
void NamedObjects(Message& m, int field, const Value& obj, Convert convert) {
  for (const auto& member : obj.GetObject()) {
    if (!member.value.IsObject()) continue;
    Message named;
    named.String(1, View(member.name));
    named.Sub(2, convert(member.value));
    m.Sub(field, named);
  }
}

// A map-only message ({ repeated Named<T> additional_properties = 1; }) from `key`.
template <class Convert>
void MapField(Message& m, int field, const Value& obj, const char* key, Convert convert) {
  const Value* v = GetObject(obj, key);
  if (v == nullptr) return;
  Message map;
  NamedObjects(map, 1, *v, convert);
  m.Sub(field, map);
}

template <class Convert>
void MessageField(Message& m, int field, const Value& obj, const char* key, Convert convert) {
  const Value* v = GetObject(obj, key);
  if (v != nullptr) m.Sub(field, convert(*v));
}

Message ExternalDocs(const Value& v) {
  Message m;
  StringField(m, 1, v, "description");
  StringField(m, 2, v, "url");
  VendorExtensions(m, 3, v);
  return m;
}

Message Xml(const Value& v) {
  Message m;
  StringField(m, 1, v, "name");
  StringField(m, 2, v, "namespace");
  StringField(m, 3, v, "prefix");
  BoolField(m, 4, v, "attribute");
  BoolField(m, 5, v, "wrapped");
  VendorExtensions(m, 6, v);
  return m;
}

Message Schema(const Value& v);

// ItemsItem { repeated Schema schema = 1; }: one schema, or one per array element.
void ItemsField(Message& m, int field, const Value& v) {
  const Value* items = Get(v, "items");
  if (items == nullptr) return;
  Message item;
  if (items->IsObject()) {
    item.Sub(1, Schema(*items));
  } else if (items->IsArray()) {
    for (const Value& s : items->GetArray()) {
      if (s.IsObject()) item.Sub(1, Schema(s));
    }
  } else {
    return;
  }
  m.Sub(field, item);
}

Message Schema(const Value& v) {
  Message m;
  StringField(m, 1, v, "$ref");
  StringField(m, 2, v, "format");
  StringField(m, 3, v, "title");
  StringField(m, 4, v, "description");
  AnyField(m, 5, v, "default");
  DoubleField(m, 6, v, "multipleOf");
  DoubleField(m, 7, v, "maximum");
  BoolField(m, 8, v, "exclusiveMaximum");
  DoubleField(m, 9, v, "minimum");
  BoolField(m, 10, v, "exclusiveMinimum");
  Int64Field(m, 11, v, "maxLength");
  Int64Field(m, 12, v, "minLength");
  StringField(m, 13, v, "pattern");
  Int64Field(m, 14, v, "maxItems");
  Int64Field(m, 15, v, "minItems");
  BoolField(m, 16, v, "uniqueItems");
  Int64Field(m, 17, v, "maxProperties");
  Int64Field(m, 18, v, "minProperties");
  StringsField(m, 19, v, "required");
  AnysField(m, 20, v, "enum");
  // AdditionalPropertiesItem { oneof { Schema schema = 1; bool boolean = 2; } }
  if (const Value* ap = Get(v, "additionalProperties")) {
    Message item;
    if (ap->IsObject()) {
      item.Sub(1, Schema(*ap));
      m.Sub(21, item);
    } else if (ap->IsBool()) {
      item.OneofBool(2, ap->GetBool());
      m.Sub(21, item);
    }
  }
  // TypeItem { repeated string value = 1; }: "type" is a name or a list of names.
  if (const Value* type = Get(v, "type")) {
    Message item;
    if (type->IsString()) {
      item.RepeatedString(1, View(*type));
      m.Sub(22, item);
    } else if (type->IsArray()) {
      StringsField(item, 1, v, "type");
      m.Sub(22, item);
    }
  }
  ItemsField(m, 23, v);
  if (const Value* all_of = GetArray(v, "allOf")) {
    for (const Value& s : all_of->GetArray()) {
      if (s.IsObject()) m.Sub(24, Schema(s));
    }
  }
  MapField(m, 25, v, "properties", Schema);  // Properties { repeated NamedSchema ... = 1; }
  StringField(m, 26, v, "discriminator");
  BoolField(m, 27, v, "readOnly");
  MessageField(m, 28, v, "xml", Xml);
  MessageField(m, 29, v, "externalDocs", ExternalDocs);
  AnyField(m, 30, v, "example");
  VendorExtensions(m, 31, v);
  return m;
}

// The fields PrimitivesItems, Header and the non-body parameter sub-schemas share, in the
// same order, starting at field number `base` ("type") and ending with multipleOf at
// base + 16.
Message PrimitivesItems(const Value& v);
void PrimitiveFields(Message& m, int base, const Value& v) {
  StringField(m, base, v, "type");
  StringField(m, base + 1, v, "format");
  MessageField(m, base + 2, v, "items", PrimitivesItems);
  StringField(m, base + 3, v, "collectionFormat");
  AnyField(m, base + 4, v, "default");
  DoubleField(m, base + 5, v, "maximum");
  BoolField(m, base + 6, v, "exclusiveMaximum");
  DoubleField(m, base + 7, v, "minimum");
  BoolField(m, base + 8, v, "exclusiveMinimum");
  Int64Field(m, base + 9, v, "maxLength");
  Int64Field(m, base + 10, v, "minLength");
  StringField(m, base + 11, v, "pattern");
  Int64Field(m, base + 12, v, "maxItems");
  Int64Field(m, base + 13, v, "minItems");
  BoolField(m, base + 14, v, "uniqueItems");
  AnysField(m, base + 15, v, "enum");
  DoubleField(m, base + 16, v, "multipleOf");
}

Message PrimitivesItems(const Value& v) {
  Message m;
  PrimitiveFields(m, 1, v);
  VendorExtensions(m, 18, v);
  return m;
}

Message Header(const Value& v) {
  Message m;
  PrimitiveFields(m, 1, v);
  StringField(m, 18, v, "description");
  VendorExtensions(m, 19, v);
  return m;
}

// Query and formData sub-schemas have allowEmptyValue (5) and the shared fields from 6;
// path and header ones the shared fields from 5.
Message NonBodySubSchema(const Value& v, bool allow_empty_value) {
  Message m;
  BoolField(m, 1, v, "required");
  StringField(m, 2, v, "in");
  StringField(m, 3, v, "description");
  StringField(m, 4, v, "name");
  int base = 5;
  if (allow_empty_value) {
    BoolField(m, 5, v, "allowEmptyValue");
    base = 6;
  }
  PrimitiveFields(m, base, v);
  VendorExtensions(m, base + 17, v);
  return m;
}

// Parameter { oneof { BodyParameter body_parameter = 1; NonBodyParameter ... = 2; } };
// false when "in" names no known location (the parameter is then left out).
bool Parameter(const Value& v, Message& out) {
  std::string_view in = GetString(v, "in");
  if (in == "body") {
    Message body;
    StringField(body, 1, v, "description");
    StringField(body, 2, v, "name");
    StringField(body, 3, v, "in");
    BoolField(body, 4, v, "required");
    MessageField(body, 5, v, "schema", Schema);
    VendorExtensions(body, 6, v);
    out.Sub(1, body);
    return true;
  }
  // NonBodyParameter { oneof { header = 1; formData = 2; query = 3; path = 4; } }
  int choice = 0;
  if (in == "header") choice = 1;
  if (in == "formData") choice = 2;
  if (in == "query") choice = 3;
  if (in == "path") choice = 4;
  if (choice == 0) return false;
  Message non_body;
  non_body.Sub(choice, NonBodySubSchema(v, choice == 2 || choice == 3));
  out.Sub(2, non_body);
  return true;
}

// JsonReference { string _ref = 1; string description = 2; }
Message JsonReference(const Value& v) {
  Message m;
  StringField(m, 1, v, "$ref");
  StringField(m, 2, v, "description");
  return m;
}

// repeated ParametersItem { oneof { Parameter parameter = 1; JsonReference ... = 2; } }
void ParametersField(Message& m, int field, const Value& v) {
  const Value* params = GetArray(v, "parameters");
  if (params == nullptr) return;
  for (const Value& p : params->GetArray()) {
    if (!p.IsObject()) continue;
    Message item;
    if (p.HasMember("$ref")) {
      item.Sub(2, JsonReference(p));
    } else {
      Message parameter;
      if (!Parameter(p, parameter)) continue;
      item.Sub(1, parameter);
    }
    m.Sub(field, item);
  }
}

Message Response(const Value& v) {
  Message m;
  StringField(m, 1, v, "description");
  if (const Value* s = GetObject(v, "schema")) {
    Message item;  // SchemaItem { oneof { Schema schema = 1; FileSchema file_schema = 2; } }
    item.Sub(1, Schema(*s));
    m.Sub(2, item);
  }
  MapField(m, 3, v, "headers", Header);  // Headers { repeated NamedHeader ... = 1; }
  if (const Value* examples = GetObject(v, "examples")) {
    Message map;  // Examples { repeated NamedAny additional_properties = 1; }
    for (const auto& member : examples->GetObject()) {
      Message named;
      named.String(1, View(member.name));
      named.Sub(2, AnyOf(member.value));
      map.Sub(1, named);
    }
    m.Sub(4, map);
  }
  VendorExtensions(m, 5, v);
  return m;
}

bool IsResponseCode(std::string_view name) {
  if (name == "default") return true;
  return name.size() == 3 &&
         std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Responses { repeated NamedResponseValue response_code = 1; vendor_extension = 2; }
Message Responses(const Value& v) {
  Message m;
  for (const auto& member : v.GetObject()) {
    if (!IsResponseCode(View(member.name)) || !member.value.IsObject()) continue;
    Message value;  // ResponseValue { oneof { Response = 1; JsonReference = 2; } }
    if (member.value.HasMember("$ref")) {
      value.Sub(2, JsonReference(member.value));
    } else {
      value.Sub(1, Response(member.value));
    }
    Message named;
    named.String(1, View(member.name));
    named.Sub(2, value);
    m.Sub(1, named);
  }
  VendorExtensions(m, 2, v);
  return m;
}

// SecurityRequirement { repeated NamedStringArray additional_properties = 1; }
void SecurityField(Message& m, int field, const Value& v) {
  const Value* list = GetArray(v, "security");
  if (list == nullptr) return;
  for (const Value& requirement : list->GetArray()) {
    if (!requirement.IsObject()) continue;
    Message req;
    for (const auto& member : requirement.GetObject()) {
      if (!member.value.IsArray()) continue;
      Message array;  // StringArray { repeated string value = 1; }
      for (const Value& s : member.value.GetArray()) {
        if (s.IsString()) array.RepeatedString(1, View(s));
      }
      Message named;
      named.String(1, View(member.name));
      named.Sub(2, array);
      req.Sub(1, named);
    }
    m.Sub(field, req);
  }
}

Message Operation(const Value& v) {
  Message m;
  StringsField(m, 1, v, "tags");
  StringField(m, 2, v, "summary");
  StringField(m, 3, v, "description");
  MessageField(m, 4, v, "externalDocs", ExternalDocs);
  StringField(m, 5, v, "operationId");
  StringsField(m, 6, v, "produces");
  StringsField(m, 7, v, "consumes");
  ParametersField(m, 8, v);
  MessageField(m, 9, v, "responses", Responses);
  StringsField(m, 10, v, "schemes");
  BoolField(m, 11, v, "deprecated");
  SecurityField(m, 12, v);
  VendorExtensions(m, 13, v);
  return m;
}

Message PathItem(const Value& v) {
  Message m;
  StringField(m, 1, v, "$ref");
  static constexpr const char* kMethods[] = {"get",     "put",  "post", "delete",
                                             "options", "head", "patch"};
  int field = 2;
  for (const char* method : kMethods) MessageField(m, field++, v, method, Operation);
  ParametersField(m, 9, v);
  VendorExtensions(m, 10, v);
  return m;
}

// Paths { repeated NamedAny vendor_extension = 1; repeated NamedPathItem path = 2; }
Message Paths(const Value& v) {
  Message m;
  VendorExtensions(m, 1, v);
  for (const auto& member : v.GetObject()) {
    if (!View(member.name).starts_with("/") || !member.value.IsObject()) continue;
    Message named;
    named.String(1, View(member.name));
    named.Sub(2, PathItem(member.value));
    m.Sub(2, named);
  }
  return m;
}

Message NamedParameterValue(const Value& v) {
  Message parameter;
  if (!Parameter(v, parameter)) return Message();
  return parameter;
}

// Oauth2Scopes { repeated NamedString additional_properties = 1; }
Message Scopes(const Value& v) {
  Message m;
  for (const auto& member : v.GetObject()) {
    if (!member.value.IsString()) continue;
    Message named;
    named.String(1, View(member.name));
    named.String(2, View(member.value));
    m.Sub(1, named);
  }
  return m;
}

// SecurityDefinitionsItem: one of six schemes, chosen by type and (oauth2) flow.
Message SecurityScheme(const Value& v) {
  std::string_view type = GetString(v, "type");
  std::string_view flow = GetString(v, "flow");
  Message scheme;
  Message item;
  if (type == "basic") {
    StringField(scheme, 1, v, "type");
    StringField(scheme, 2, v, "description");
    VendorExtensions(scheme, 3, v);
    item.Sub(1, scheme);
  } else if (type == "apiKey") {
    StringField(scheme, 1, v, "type");
    StringField(scheme, 2, v, "name");
    StringField(scheme, 3, v, "in");
    StringField(scheme, 4, v, "description");
    VendorExtensions(scheme, 5, v);
    item.Sub(2, scheme);
  } else if (type == "oauth2") {
    StringField(scheme, 1, v, "type");
    StringField(scheme, 2, v, "flow");
    MessageField(scheme, 3, v, "scopes", Scopes);
    int choice = 0;
    if (flow == "implicit") {
      StringField(scheme, 4, v, "authorizationUrl");
      choice = 3;
    } else if (flow == "password" || flow == "application") {
      StringField(scheme, 4, v, "tokenUrl");
      choice = flow == "password" ? 4 : 5;
    } else if (flow == "accessCode") {
      StringField(scheme, 4, v, "authorizationUrl");
      StringField(scheme, 5, v, "tokenUrl");
      choice = 6;
    }
    if (choice != 0) {
      int next = choice == 6 ? 6 : 5;
      StringField(scheme, next, v, "description");
      VendorExtensions(scheme, next + 1, v);
      item.Sub(choice, scheme);
    }
  }
  return item;
}

Message Contact(const Value& v) {
  Message m;
  StringField(m, 1, v, "name");
  StringField(m, 2, v, "url");
  StringField(m, 3, v, "email");
  VendorExtensions(m, 4, v);
  return m;
}

Message License(const Value& v) {
  Message m;
  StringField(m, 1, v, "name");
  StringField(m, 2, v, "url");
  VendorExtensions(m, 3, v);
  return m;
}

Message Info(const Value& v) {
  Message m;
  StringField(m, 1, v, "title");
  StringField(m, 2, v, "version");
  StringField(m, 3, v, "description");
  StringField(m, 4, v, "termsOfService");
  MessageField(m, 5, v, "contact", Contact);
  MessageField(m, 6, v, "license", License);
  VendorExtensions(m, 7, v);
  return m;
}

Message Tag(const Value& v) {
  Message m;
  StringField(m, 1, v, "name");
  StringField(m, 2, v, "description");
  MessageField(m, 3, v, "externalDocs", ExternalDocs);
  VendorExtensions(m, 4, v);
  return m;
}

Message Document(const Value& v) {
  Message m;
  StringField(m, 1, v, "swagger");
  MessageField(m, 2, v, "info", Info);
  StringField(m, 3, v, "host");
  StringField(m, 4, v, "basePath");
  StringsField(m, 5, v, "schemes");
  StringsField(m, 6, v, "consumes");
  StringsField(m, 7, v, "produces");
  MessageField(m, 8, v, "paths", Paths);
  MapField(m, 9, v, "definitions", Schema);               // Definitions
  MapField(m, 10, v, "parameters", NamedParameterValue);  // ParameterDefinitions
  MapField(m, 11, v, "responses", Response);              // ResponseDefinitions
  SecurityField(m, 12, v);
  MapField(m, 13, v, "securityDefinitions", SecurityScheme);  // SecurityDefinitions
  if (const Value* tags = GetArray(v, "tags")) {
    for (const Value& t : tags->GetArray()) {
      if (t.IsObject()) m.Sub(14, Tag(t));
    }
  }
  MessageField(m, 15, v, "externalDocs", ExternalDocs);
  VendorExtensions(m, 16, v);
  return m;
}

}  // namespace

Result<std::string> SwaggerToProto(const rapidjson::Value& document) {
  if (!document.IsObject()) {
    return InvalidArgumentError("an OpenAPI v2 document must be a JSON object");
  }
  return Document(document).Take();
}

Result<std::string> SwaggerJsonToProto(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return InvalidArgumentError("the OpenAPI v2 document is not valid JSON (at offset " +
                                std::to_string(doc.GetErrorOffset()) + ")");
  }
  return SwaggerToProto(doc);
}

}  // namespace kite::openapi
