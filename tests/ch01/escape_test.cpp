// The chroot escape (this chapter's lab): a program inside the container reaches the host.
#include "harness.hpp"

#include <filesystem>

namespace fs = std::filesystem;

TEST_CASE("chroot escape: a root process inside reads a file of the host", "[ch01][escape][ex1.4]")
{
    DOCKLING_REQUIRE_ROOT();
    if (dockling::test::chapter_under_test() >= 2) {
        DOCKLING_SKIP("this binary uses pivot_root (chapter 02), which closes the escape: its twin test checks that");
    }
    dockling::test::TempDir dir;
    fs::path rootfs = dockling::test::copy_of_busybox_rootfs(dir);
    fs::copy_file(dockling::test::build_file("bin/dockling-escape"), rootfs / "escape");
    // The secret lives on the host, outside the rootfs: only an escaped process can read it.
    fs::path secret = dir.path() / "host-secret";
    dockling::test::write_file(secret, "the host's secret 8c1f\n");

    auto ran = dockling::test::run_dockling({"run", "--rootfs", rootfs.string(), "/escape", secret.string()});
    INFO(ran.err);
    CHECK(ran.exit_code == 0);
    CHECK(ran.out == "escaped, " + secret.string() + " says: the host's secret 8c1f\n");
}
