// The commands every binary has besides run: --help, version, doctor.
#include "harness.hpp"

using dockling::test::run_dockling;

TEST_CASE("--help lists the commands and exits 0", "[ch01][cli]")
{
    auto help = run_dockling({"--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("run") != std::string::npos);
    CHECK(help.out.find("doctor") != std::string::npos);
    CHECK(help.out.find("version") != std::string::npos);

    auto run_help = run_dockling({"run", "--help"});
    CHECK(run_help.exit_code == 0);
    CHECK(run_help.out.find("--rootfs") != std::string::npos);
    CHECK(run_help.out.find("--env") != std::string::npos);
}

TEST_CASE("version names the program and its version", "[ch01][cli]")
{
    auto version = run_dockling({"version"});
    CHECK(version.exit_code == 0);
    std::string program = dockling::test::dockling_binary().filename().string();
    CHECK(version.out.rfind(program + " version ", 0) == 0);
    CHECK(version.out.find("built with: g++") != std::string::npos);
}

TEST_CASE("doctor gives one line per check and passes as root", "[ch01][cli]")
{
    auto doctor = run_dockling({"doctor"});
    CHECK(doctor.out.find("chapter 01\n") != std::string::npos);
    CHECK(doctor.out.find("root") != std::string::npos);
    CHECK(doctor.out.find("kernel") != std::string::npos);
    if (dockling::test::running_as_root()) {
        CHECK(doctor.exit_code == 0);
        CHECK(doctor.out.find("FAIL") == std::string::npos);
    } else {
        CHECK(doctor.exit_code == 1);
        CHECK(doctor.out.find("FAIL  root") != std::string::npos);
    }
}
