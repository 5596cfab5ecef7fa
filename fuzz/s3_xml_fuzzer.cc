// Fuzzes the S3 XML reader (storage/s3_xml.h) the way S3Client reads a ListObjectsV2 page,
// an error document and a multipart-upload answer: the bytes come from the network.
// Invariants: every element found is a view inside the document; XmlText decodes what
// XmlEscape encodes back to the same text, and UriDecode what UriEncode encodes;
// url-encoded keys decode without crashing.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/error.h"
#include "ipinsights/storage/s3_xml.h"
#include "ipinsights/storage/sigv4.h"

using namespace ipinsights;

namespace {

void CheckInside(std::string_view inner, std::string_view outer) {
  FUZZ_CHECK(inner.empty() || (inner.data() >= outer.data() &&
                               inner.data() + inner.size() <= outer.data() + outer.size()),
             "an element is a view inside its document");
}

void CheckText(std::string_view raw) {
  std::string text = XmlText(raw);
  FUZZ_CHECK(XmlText(XmlEscape(text)) == text, "XmlText(XmlEscape(t)) == t");
  FUZZ_CHECK(UriDecode(UriEncode(text, false)) == text, "UriDecode(UriEncode(t)) == t");
  (void)UriDecode(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml = fuzz::AsText(data, size);
  try {
    for (const char* name :
         {"Code", "Message", "UploadId", "EncodingType", "IsTruncated", "NextContinuationToken"}) {
      if (auto value = XmlFirst(xml, name)) {
        CheckInside(*value, xml);
        CheckText(*value);
      }
    }
    for (std::string_view contents : XmlElements(xml, "Contents")) {
      CheckInside(contents, xml);
      for (const char* name : {"Key", "Size", "LastModified", "ETag"}) {
        if (auto value = XmlFirst(contents, name)) {
          CheckInside(*value, contents);
          CheckText(*value);
        }
      }
    }
    for (std::string_view common : XmlElements(xml, "CommonPrefixes")) {
      CheckInside(common, xml);
      for (std::string_view prefix : XmlElements(common, "Prefix")) {
        CheckInside(prefix, common);
        CheckText(prefix);
      }
    }
    CheckText(xml);
  } catch (const Error&) {
  }
  return 0;
}
