// The per-kind table printers behind BuildTable (internal to kite_tables).
//
// Each built-in kind has a column list and a function that appends one row's cells, working
// on the object's JSON as served (v1 field names). Rows always carry every column, wide ones
// included: the API server computes the wide table and kubectl drops priority-1 columns
// unless `-o wide` asks for them.
#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace kite::tables::internal {

struct ColumnDef {
  std::string_view name;
  std::string_view type;  // OpenAPI type: string, integer, number, boolean, date
  std::string_view format;  // "name" marks the column holding the object name
  std::string_view description;
  int priority = 0;  // 1: shown only with -o wide
};

// The columns every printer starts or ends with, and a shorthand for the others.
inline constexpr ColumnDef kName{"Name", "string", "name",
                                 "Name of the object, unique in its namespace."};
inline constexpr ColumnDef kAge{"Age", "string", "", "Time since the object was created."};
constexpr ColumnDef Col(std::string_view name, std::string_view type, std::string_view desc,
                        int priority = 0) {
  return ColumnDef{name, type, "", desc, priority};
}

// Collects the cells (and row conditions) of one row. Not thread-safe; one per row.
class RowWriter {
 public:
  explicit RowWriter(rapidjson::Document::AllocatorType& alloc)
      : alloc_(alloc), cells_(rapidjson::kArrayType) {}

  void String(std::string_view s) {
    // An empty string_view may have a null data(), which RapidJSON rejects.
    cells_.PushBack(rapidjson::Value(s.empty() ? "" : s.data(),
                                     static_cast<rapidjson::SizeType>(s.size()), alloc_),
                    alloc_);
  }
  void Int(int64_t n) { cells_.PushBack(rapidjson::Value(n), alloc_); }
  void Bool(bool b) { cells_.PushBack(rapidjson::Value(b), alloc_); }
  void Null() { cells_.PushBack(rapidjson::Value(), alloc_); }
  void Double(double d) { cells_.PushBack(rapidjson::Value(d), alloc_); }
  // Marks the row "Completed" (a pod that succeeded or failed), which clients may dim.
  void Completed(std::string_view reason, std::string_view message);

  rapidjson::Value& cells() { return cells_; }
  rapidjson::Value& conditions() { return conditions_; }
  rapidjson::Document::AllocatorType& allocator() { return alloc_; }

 private:
  rapidjson::Document::AllocatorType& alloc_;
  rapidjson::Value cells_;
  rapidjson::Value conditions_;  // null unless Completed was called
};

struct PrintContext {
  std::chrono::system_clock::time_point now;
};

using PrintFn = void (*)(const rapidjson::Value& obj, const PrintContext& ctx, RowWriter& row);

struct KindPrinter {
  std::string_view group;  // "" for the core group
  std::string_view kind;
  std::vector<ColumnDef> columns;
  PrintFn print;
};

// The printer for (group, kind), or nullptr when the kind has none (default table).
const KindPrinter* FindPrinter(std::string_view group, std::string_view kind);

// Registration, one function per source file.
void AddCorePrinters(std::vector<KindPrinter>& out);      // core_printers.cc
void AddWorkloadPrinters(std::vector<KindPrinter>& out);  // workload_printers.cc
void AddClusterPrinters(std::vector<KindPrinter>& out);   // cluster_printers.cc

}  // namespace kite::tables::internal
