// Just enough XML for S3's answers (ListObjectsV2, multipart uploads, error documents).
//
// S3 documents are flat and machine-written: elements we read never nest inside an element
// of the same name, hold no CDATA, and use the five predefined entities and numeric
// character references. This is not a general XML parser and does not try to be.
//
// Thread-safety: pure functions.
//
//   for (std::string_view contents : XmlElements(body, "Contents"))
//     std::string key = XmlText(XmlFirst(contents, "Key").value_or(""));
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipinsights {

// The raw inner text of every <name>...</name> (or <name/>) in `xml`, in document order.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view name);

// The first one, if any.
std::optional<std::string_view> XmlFirst(std::string_view xml, std::string_view name);

// Inner text with entities and character references decoded.
std::string XmlText(std::string_view raw);

// Escapes text for an element body (&, <, >).
std::string XmlEscape(std::string_view text);

}  // namespace ipinsights
