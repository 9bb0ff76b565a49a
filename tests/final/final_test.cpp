// The final tool: everything the chapters have, in one binary called dockling.
#include "harness.hpp"

using dockling::test::run_dockling;

TEST_CASE("dockling runs a command in a rootfs", "[final][run]")
{
    DOCKLING_REQUIRE_ROOT();
    auto ran = run_dockling({"run", "--rootfs", dockling::test::busybox_rootfs().string(), "/bin/sh", "-c",
                         "cat /etc/dockling-rootfs; exit 7"});
    CHECK(ran.exit_code == 7);
    CHECK(ran.out.rfind("dockling test rootfs", 0) == 0);
}

TEST_CASE("dockling version says it is the whole tool", "[final][cli]")
{
    auto version = run_dockling({"version"});
    CHECK(version.exit_code == 0);
    CHECK(version.out.rfind("dockling version ", 0) == 0);
    CHECK(version.out.find("(all chapters)") != std::string::npos);
}
