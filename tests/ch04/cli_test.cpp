// Chapter 04: the command line: doctor's checks, the new commands, their errors.
#include "ch04_support.hpp"

using namespace ch04;
using dockling::test::busybox_rootfs;

TEST_CASE("doctor checks overlayfs and the data root's filesystem", "[ch04][cli]")
{
    Storage storage;
    Outcome doctor = storage.run({"doctor"});
    CHECK(doctor.out.find("chapter 04\n") != std::string::npos);
    CHECK(doctor.out.find("overlay filesystem") != std::string::npos);
    CHECK(doctor.out.find("overlay on data root") != std::string::npos);
    if (dockling::test::running_as_root()) {
        CHECK(doctor.out.find("ok    overlay on data root   overlay mounts on the filesystem of " +
                              storage.scratch().string()) != std::string::npos);
        CHECK(doctor.exit_code == 0);
    }
    CHECK_FALSE(mountinfo_mentions(storage.scratch().string()));
    CHECK(fs::is_empty(storage.scratch()));  // the probe left nothing behind
}

TEST_CASE("--help lists the storage commands", "[ch04][cli]")
{
    Outcome help = dockling::test::run_dockling({"--help"});
    CHECK(help.exit_code == 0);
    for (const char* command : {"diff", "rm", "layer"}) {
        CHECK(help.out.find(command) != std::string::npos);
    }
    Outcome run_help = dockling::test::run_dockling({"run", "--help"});
    for (const char* flag : {"--layer", "--name", "--rm", "--cidfile"}) {
        CHECK(run_help.out.find(flag) != std::string::npos);
    }
}

TEST_CASE("run's repeatable options and flags leave the command its own flags", "[ch04][cli][run]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    std::string base = busybox_rootfs().string();
    Outcome ran = storage.run({"run", "--layer", base, "--rm", "-e", "A=1", "--env", "B=2", "--layer", base,
                               "/bin/sh", "-c", "echo $A$B"});
    INFO(ran.err);
    CHECK(ran.exit_code == 0);
    CHECK(ran.out == "12\n");
    CHECK(storage.containers().empty());
}

TEST_CASE("the storage commands name what is wrong in one line", "[ch04][cli][errors]")
{
    Storage storage;
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    std::vector<Case> cases{
        {{"diff", "nothing-here"}, "no such container: nothing-here"},
        {{"rm", "nothing-here"}, "no such container: nothing-here"},
        {{"layer", "save", "nothing-here", "out.tar"}, "no such container: nothing-here"},
        {{"layer", "apply", "/nonexistent/layer.tar", (storage.scratch() / "t").string()},
         "open /nonexistent/layer.tar: No such file or directory"},
        {{"layer"}, "A subcommand is required"},
        {{"diff"}, "container is required"},
    };
    for (const auto& c : cases) {
        INFO([&] { std::string s; for (auto& a : c.args) s += a + " "; return s; }());
        Outcome ran = storage.run(c.args);
        CHECK(ran.exit_code == 125);
        CHECK(ran.err.find(c.says) != std::string::npos);
        CHECK(std::count(ran.err.begin(), ran.err.end(), '\n') == 1);
    }
}
