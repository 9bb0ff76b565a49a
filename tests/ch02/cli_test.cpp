// Chapter 02's part of the command line: its run flags and its doctor checks.
#include "container.hpp"

using namespace dockling::test;

TEST_CASE("run --help lists chapter 02's flags", "[ch02][cli]")
{
    Outcome help = run_dockling({"run", "--help"});
    CHECK(help.exit_code == 0);
    for (const char* flag : {"--hostname", "--network", "--userns", "--cap-add", "--cap-drop", "--privileged",
                             "--init"}) {
        INFO(flag);
        CHECK(help.out.find(flag) != std::string::npos);
    }
}

TEST_CASE("doctor checks what chapter 02 needs", "[ch02][cli]")
{
    Outcome doctor = run_dockling({"doctor"});
    CHECK(doctor.out.find("chapter 02\n") != std::string::npos);
    for (const char* check : {"namespaces", "pivot_root", "mount propagation", "user namespaces", "capabilities"}) {
        INFO(check);
        CHECK(doctor.out.find("  " + std::string(check) + " ") != std::string::npos);
    }
    if (running_as_root()) {
        CHECK(doctor.exit_code == 0);
        CHECK(doctor.out.find("FAIL") == std::string::npos);
    }
}
