#include "src/server/tables/table_printer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <utility>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "src/server/tables/column_path.h"
#include "src/server/tables/json_fields.h"
#include "src/server/tables/kind_printers.h"
#include "src/server/tables/print_helpers.h"
#include "src/server/tables/timestamp.h"

namespace kite::tables {
namespace internal {

const KindPrinter* FindPrinter(std::string_view group, std::string_view kind) {
  static const std::vector<KindPrinter> kPrinters = [] {
    std::vector<KindPrinter> printers;
    AddCorePrinters(printers);
    AddWorkloadPrinters(printers);
    AddClusterPrinters(printers);
    return printers;
  }();
  for (const KindPrinter& p : kPrinters) {
    if (p.group == group && p.kind == kind) return &p;
  }
  return nullptr;
}

}  // namespace internal

namespace {

using internal::ColumnDef;
using internal::RowWriter;
using rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

Value Text(std::string_view s, Allocator& a) {
  return Value(s.empty() ? "" : s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// kind, apiVersion, metadata and an empty rows array; columnDefinitions is added by callers.
void StartTable(const Value* list_metadata, Allocator& a, Value& table) {
  table.SetObject();
  table.AddMember("kind", "Table", a);
  table.AddMember("apiVersion", "meta.k8s.io/v1", a);
  Value metadata(rapidjson::kObjectType);
  for (const char* key : {"resourceVersion", "continue", "remainingItemCount"}) {
    if (const Value* v = internal::Get(list_metadata, key)) {
      metadata.AddMember(Value(rapidjson::StringRef(key)), Value(*v, a), a);
    }
  }
  table.AddMember("metadata", metadata, a);
}

void AddColumn(Value& columns, const ColumnDef& c, Allocator& a) {
  Value col(rapidjson::kObjectType);
  col.AddMember("name", Text(c.name, a), a);
  col.AddMember("type", Text(c.type, a), a);
  col.AddMember("format", Text(c.format, a), a);
  col.AddMember("description", Text(c.description, a), a);
  col.AddMember("priority", c.priority, a);
  columns.PushBack(col, a);
}

// The row's "object" according to ?includeObject=.
Value RowObject(const Value& obj, IncludeObject include, Allocator& a) {
  switch (include) {
    case IncludeObject::kNone:
      return Value();
    case IncludeObject::kObject:
      return Value(obj, a);
    case IncludeObject::kMetadata:
      break;
  }
  Value partial(rapidjson::kObjectType);
  partial.AddMember("kind", "PartialObjectMetadata", a);
  partial.AddMember("apiVersion", "meta.k8s.io/v1", a);
  const Value* metadata = internal::Get(&obj, "metadata");
  partial.AddMember("metadata",
                    internal::IsObject(metadata) ? Value(*metadata, a)
                                                 : Value(rapidjson::kObjectType),
                    a);
  return partial;
}

void AppendRow(Value& rows, RowWriter& row, const Value& obj, IncludeObject include,
               Allocator& a) {
  Value r(rapidjson::kObjectType);
  r.AddMember("cells", row.cells(), a);
  if (!row.conditions().IsNull()) r.AddMember("conditions", row.conditions(), a);
  r.AddMember("object", RowObject(obj, include, a), a);
  rows.PushBack(r, a);
}

// Kubernetes' default table convertor: the name and the creation time as RFC 3339.
void PrintDefault(const Value& obj, const internal::PrintContext&, RowWriter& row) {
  row.String(internal::Name(obj));
  std::optional<Timestamp> created = internal::Time(internal::Dig(&obj, "metadata",
                                                                  "creationTimestamp"));
  // An unset creationTimestamp prints as Go's zero time.
  row.String(FormatTimestamp(created.value_or(Timestamp(std::chrono::seconds(-62135596800)))));
}

const std::vector<ColumnDef>& DefaultColumns() {
  static const std::vector<ColumnDef> kColumns = {
      {"Name", "string", "name", "Name of the object, unique in its namespace.", 0},
      {"Created At", "date", "", "Time the object was created.", 0}};
  return kColumns;
}

// ----- custom resource cells ----------------------------------------------------------------

// Go's %v for a float64: shortest digits, exponent form below 1e-4 and from 1e+06 on.
std::string GoFloatText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string text(buf, sci.ptr);
  const int exponent = std::atoi(text.c_str() + text.find('e') + 1);
  if (exponent < -4 || exponent >= 6) return text;  // to_chars already writes "e+06"
  auto fixed = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

// A copy with object members sorted by key, as Go's encoding/json writes maps.
Value SortedCopy(const Value& v, Allocator& a) {
  if (v.IsObject()) {
    std::vector<const Value::Member*> members;
    for (auto& m : v.GetObject()) members.push_back(&m);
    std::sort(members.begin(), members.end(), [](const Value::Member* x, const Value::Member* y) {
      return std::string_view(x->name.GetString(), x->name.GetStringLength()) <
             std::string_view(y->name.GetString(), y->name.GetStringLength());
    });
    Value out(rapidjson::kObjectType);
    for (const Value::Member* m : members) {
      out.AddMember(Value(m->name, a), SortedCopy(m->value, a), a);
    }
    return out;
  }
  if (v.IsArray()) {
    Value out(rapidjson::kArrayType);
    for (auto& e : v.GetArray()) out.PushBack(SortedCopy(e, a), a);
    return out;
  }
  return Value(v, a);
}

// The text JSONPath printing gives a value: strings raw, scalars formatted, containers JSON.
std::string ValueText(const Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsDouble()) return GoFloatText(v.GetDouble());
  rapidjson::Document scratch;
  Value sorted = SortedCopy(v, scratch.GetAllocator());
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  sorted.Accept(writer);
  return std::string(buf.GetString(), buf.GetSize());
}

// A number cell; whole values are written as integers, as Go prints a float64 like 3.0.
void NumberCell(double d, RowWriter& row) {
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9e15) {
    row.Int(static_cast<int64_t>(d));
  } else if (std::isfinite(d)) {
    row.Double(d);
  } else {
    row.Null();  // JSON has no NaN or infinity
  }
}

void CustomCell(std::string_view type, const Value* v, const internal::PrintContext& ctx,
                RowWriter& row) {
  if (v == nullptr) return row.Null();
  if (type == "string") return row.String(ValueText(*v));
  if (type == "integer" && v->IsNumber()) return row.Int(internal::IntOr(v, 0));
  if (type == "number" && v->IsNumber()) return NumberCell(v->GetDouble(), row);
  if (type == "boolean" && v->IsBool()) return row.Bool(v->GetBool());
  if (type == "date" && v->IsString()) {
    if (v->GetStringLength() == 0) return row.String("<unknown>");  // the zero time
    std::optional<Timestamp> t = ParseTimestamp(internal::Str(v));
    return row.String(t ? AgeSince(t, ctx.now) : "<invalid>");
  }
  row.Null();
}

}  // namespace

Result<IncludeObject> ParseIncludeObject(std::string_view value) {
  if (value.empty() || value == "Metadata") return IncludeObject::kMetadata;
  if (value == "None") return IncludeObject::kNone;
  if (value == "Object") return IncludeObject::kObject;
  return InvalidArgumentError("unrecognized includeObject value: \"" + std::string(value) +
                              "\" (want None, Metadata or Object)");
}

bool HasBuiltinColumns(std::string_view group, std::string_view kind) {
  return internal::FindPrinter(group, kind) != nullptr;
}

void BuildTable(std::string_view group, std::string_view kind,
                const std::vector<const rapidjson::Value*>& objects,
                const rapidjson::Value* list_metadata, const TableOptions& options,
                rapidjson::Document& out) {
  Allocator& a = out.GetAllocator();
  StartTable(list_metadata, a, out);

  const internal::KindPrinter* printer = internal::FindPrinter(group, kind);
  const std::vector<ColumnDef>& columns = printer ? printer->columns : DefaultColumns();
  const internal::PrintFn print = printer ? printer->print : PrintDefault;

  Value defs;  // null unless column definitions are wanted
  if (options.include_column_definitions) {
    defs.SetArray();
    for (const ColumnDef& c : columns) AddColumn(defs, c, a);
  }
  out.AddMember("columnDefinitions", defs, a);

  const internal::PrintContext ctx{options.now};
  Value rows(rapidjson::kArrayType);
  for (const Value* obj : objects) {
    if (obj == nullptr) continue;
    RowWriter row(a);
    print(*obj, ctx, row);
    AppendRow(rows, row, *obj, options.include_object, a);
  }
  out.AddMember("rows", rows, a);
}

std::vector<CustomColumn> DefaultCustomColumns() {
  return {CustomColumn{"Age", "date", "", "", 0, ".metadata.creationTimestamp"}};
}

Status BuildCustomTable(const std::vector<CustomColumn>& columns,
                        const std::vector<const rapidjson::Value*>& objects,
                        const rapidjson::Value* list_metadata, const TableOptions& options,
                        rapidjson::Document& out) {
  std::vector<ColumnPath> paths;
  paths.reserve(columns.size());
  for (const CustomColumn& c : columns) {
    Result<ColumnPath> path = ColumnPath::Parse(c.json_path);
    if (!path.ok()) {
      return InvalidArgumentError("column \"" + c.name + "\": " + path.status().message());
    }
    paths.push_back(std::move(path).value());
  }

  Allocator& a = out.GetAllocator();
  StartTable(list_metadata, a, out);
  Value defs;
  if (options.include_column_definitions) {
    defs.SetArray();
    AddColumn(defs, DefaultColumns()[0], a);
    for (const CustomColumn& c : columns) {
      const std::string description =
          c.description.empty() ? "Custom resource column (JSONPath): " + c.json_path
                                : c.description;
      AddColumn(defs, ColumnDef{c.name, c.type, c.format, description, c.priority}, a);
    }
  }
  out.AddMember("columnDefinitions", defs, a);

  const internal::PrintContext ctx{options.now};
  Value rows(rapidjson::kArrayType);
  for (const Value* obj : objects) {
    if (obj == nullptr) continue;
    RowWriter row(a);
    row.String(internal::Name(*obj));
    for (size_t i = 0; i < columns.size(); ++i) {
      CustomCell(columns[i].type, paths[i].Evaluate(*obj), ctx, row);
    }
    AppendRow(rows, row, *obj, options.include_object, a);
  }
  out.AddMember("rows", rows, a);
  return Status::Ok();
}

}  // namespace kite::tables
