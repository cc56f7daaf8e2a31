// HTTP header fields: an ordered list of (name, value) pairs, looked up without regard to
// the case of names. Order and duplicates are kept as sent or received.
//
// Thread-safety: a plain value; not synchronized.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kite::net::http {

// ASCII case-insensitive equality, as header names and tokens compare.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

class Headers {
 public:
  using Entry = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<Entry> entries) : entries_(entries) {}

  void Add(std::string name, std::string value) { entries_.emplace_back(std::move(name), std::move(value)); }
  // The value of the first field named `name`, or nullptr.
  const std::string* Find(std::string_view name) const;
  // The value of the first field named `name`, or "" when there is none.
  std::string Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  // Every value of the fields named `name`, in order.
  std::vector<std::string> GetAll(std::string_view name) const;
  // Whether a comma-separated list field (Connection, Transfer-Encoding) holds `token`,
  // compared without case, in any of its occurrences.
  bool HasToken(std::string_view name, std::string_view token) const;
  void Remove(std::string_view name);

  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
};

}  // namespace kite::net::http
