#include "spec.hpp"

#include "error.hpp"

#include <sys/random.h>

#include <array>
#include <cstdio>

namespace dockling {

std::string new_container_id()
{
    std::array<unsigned char, 32> bytes{};
    check(::getrandom(bytes.data(), bytes.size(), 0), "getrandom");
    std::string id;
    for (unsigned char byte : bytes) {
        char hex[3];
        std::snprintf(hex, sizeof hex, "%02x", byte);
        id += hex;
    }
    return id;
}

}  // namespace dockling
