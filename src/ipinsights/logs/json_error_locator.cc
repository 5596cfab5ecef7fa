#include "ipinsights/logs/json_error_locator.h"

#include <vector>

namespace ipinsights {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

class Validator {
 public:
  explicit Validator(std::string_view text) : text_(text) {}

  JsonErrorLocation Run() {
    SkipSpace();
    if (!Value()) return error_;
    // Containers are closed by the loop in Value(); a scalar root ends here too.
    JsonErrorLocation ok;
    ok.end = pos_;
    return ok;
  }

 private:
  enum class Frame : char { kObject, kArray };

  bool Fail(size_t offset, std::string message) {
    error_.found = true;
    error_.offset = offset;
    error_.message = std::move(message);
    error_.truncated = pos_ >= text_.size();
    return false;
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(text_[pos_])) ++pos_;
  }
  std::string Describe() const {
    if (AtEnd()) return "unexpected end of input";
    char c = text_[pos_];
    if (c >= 0x20 && c < 0x7f) return std::string("unexpected '") + c + "'";
    return "unexpected byte";
  }

  // One complete value (containers iteratively, so deep nesting cannot overflow the stack).
  bool Value() {
    std::vector<Frame> stack;
    for (;;) {
      SkipSpace();
      if (AtEnd()) return Fail(pos_, "unexpected end of input, expected a value");
      char c = text_[pos_];
      if (c == '{') {
        ++pos_;
        SkipSpace();
        if (!AtEnd() && text_[pos_] == '}') {
          ++pos_;
        } else {
          if (!Key()) return false;
          stack.push_back(Frame::kObject);
          continue;
        }
      } else if (c == '[') {
        ++pos_;
        SkipSpace();
        if (!AtEnd() && text_[pos_] == ']') {
          ++pos_;
        } else {
          stack.push_back(Frame::kArray);
          continue;
        }
      } else if (!Scalar()) {
        return false;
      }
      // A value is complete: close containers / move to the next element.
      for (;;) {
        if (stack.empty()) return true;
        SkipSpace();
        if (AtEnd()) return Fail(pos_, "unexpected end of input inside an object or array");
        char next = text_[pos_];
        if (stack.back() == Frame::kObject) {
          if (next == ',') {
            ++pos_;
            if (!Key()) return false;
            break;
          }
          if (next == '}') {
            ++pos_;
            stack.pop_back();
            continue;
          }
          return Fail(pos_, "expected ',' or '}' after an object member, found " + Describe());
        }
        if (next == ',') {
          ++pos_;
          break;
        }
        if (next == ']') {
          ++pos_;
          stack.pop_back();
          continue;
        }
        return Fail(pos_, "expected ',' or ']' after an array element, found " + Describe());
      }
    }
  }

  // "key" : (leaves pos_ before the member's value)
  bool Key() {
    SkipSpace();
    if (AtEnd() || text_[pos_] != '"') {
      return Fail(pos_, "expected a quoted object key, found " + Describe());
    }
    if (!String()) return false;
    SkipSpace();
    if (AtEnd() || text_[pos_] != ':') {
      return Fail(pos_, "expected ':' after an object key, found " + Describe());
    }
    ++pos_;
    return true;
  }

  bool Scalar() {
    char c = text_[pos_];
    if (c == '"') return String();
    if (c == '-' || IsDigit(c)) return Number();
    if (Literal("true") || Literal("false") || Literal("null")) return true;
    for (std::string_view word : {"true", "false", "null"}) {
      std::string_view rest = text_.substr(pos_);
      if (rest.size() < word.size() && word.substr(0, rest.size()) == rest) {
        pos_ = text_.size();  // cut short: more text may complete it
        return Fail(pos_, "unexpected end of input inside a literal");
      }
    }
    return Fail(pos_, "expected a value, found " + Describe());
  }

  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool String() {
    size_t start = pos_;
    ++pos_;  // opening quote
    while (!AtEnd()) {
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail(pos_, "control character inside a string");
      if (c == '\\') {
        ++pos_;
        if (AtEnd()) break;
        char e = text_[pos_];
        if (e == 'u') {
          for (int i = 1; i <= 4; ++i) {
            if (pos_ + i >= text_.size() || !IsHex(text_[pos_ + i])) {
              return Fail(pos_ - 1, "bad \\u escape inside a string");
            }
          }
          pos_ += 5;
          continue;
        }
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
            e != 't') {
          return Fail(pos_ - 1, "bad escape inside a string");
        }
      }
      ++pos_;
    }
    return Fail(start, "unterminated string");
  }

  bool Number() {
    size_t start = pos_;

    if (text_[pos_] == '-') ++pos_;
    if (AtEnd() || !IsDigit(text_[pos_])) return Fail(start, "bad number");
    if (text_[pos_] == '0') {
      ++pos_;
    } else {
      while (!AtEnd() && IsDigit(text_[pos_])) ++pos_;
    }
    if (!AtEnd() && text_[pos_] == '.') {
      ++pos_;
      if (AtEnd() || !IsDigit(text_[pos_])) return Fail(start, "bad number");
      while (!AtEnd() && IsDigit(text_[pos_])) ++pos_;
    }
    if (!AtEnd() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (!AtEnd() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (AtEnd() || !IsDigit(text_[pos_])) return Fail(start, "bad number");
      while (!AtEnd() && IsDigit(text_[pos_])) ++pos_;
    }
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  JsonErrorLocation error_;
};

}  // namespace

JsonErrorLocation LocateJsonError(std::string_view text) { return Validator(text).Run(); }

}  // namespace ipinsights
