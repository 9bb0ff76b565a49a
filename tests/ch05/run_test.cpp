// Chapter 05 integration tests for `run IMAGE`: an image pulled from a real registry,
// unpacked by chapter 04's extraction, becomes a running container. Running an image
// needs its layers' chain ids (exercise 5.4), so these tests grade that exercise too.
#include "servers.hpp"

#include <filesystem>

using namespace dockling::test;
namespace fs = std::filesystem;

namespace {

/// How many layers are unpacked in the store (by chain id).
size_t unpacked_layers(const TempDir& root)
{
    size_t count = 0;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(root.path() / "data/images/layers", error)) {
        count += entry.is_directory() && entry.path().filename().string().front() != '.';
    }
    return count;
}

}  // namespace

TEST_CASE("run IMAGE pulls a missing image first, then runs it", "[ch05][run][ex5.4]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string image = fixture_registry().address() + "/busybox";
    TempDir root;
    Outcome first = dockling_in(root, {"run", "--rm", image, "/bin/sh", "-c", "echo ran in $(cat /etc/hostname 2>/dev/null || hostname); exit 3"});
    INFO(first.err);
    CHECK(first.exit_code == 3);
    CHECK(contains(first.out, "ran in "));
    CHECK(contains(first.err, "Unable to find image '" + image + ":latest' locally"));
    CHECK(contains(first.err, ": Extracting\n"));  // run unpacks what it pulls, as docker pull shows
    CHECK(contains(first.err, ": Pull complete\n"));
    CHECK(contains(first.err, "Status: Downloaded newer image for " + image + ":latest"));
    CHECK(unpacked_layers(root) == 1);

    Outcome second = dockling_in(root, {"run", "--rm", image, "/bin/true"});
    CHECK(second.exit_code == 0);
    CHECK(second.err.empty());  // it is there now: no pull
    CHECK(contains(dockling_in(root, {"images"}).out, image));
}

TEST_CASE("the image config sets the command, environment, directory and user", "[ch05][run][ex5.4]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string image = fixture_registry().address() + "/layers";
    TempDir root;
    REQUIRE(dockling_in(root, {"pull", image}).exit_code == 0);
    // Entrypoint /usr/local/bin/hello, Cmd [world], User app (1000:1000), WorkingDir /home/app.
    CHECK(dockling_in(root, {"run", "--rm", image}).out == "hello, world, from 1000:1000 in /home/app\n");
    CHECK(dockling_in(root, {"run", "--rm", image, "you", "there"}).out ==
          "hello, you there, from 1000:1000 in /home/app\n");
    CHECK(dockling_in(root, {"run", "--rm", "-u", "0:50", "-w", "/tmp", "-e", "GREETING=bye", image}).out ==
          "bye, world, from 0:50 in /tmp\n");
    Outcome shell = dockling_in(root, {"run", "--rm", "--entrypoint", "/bin/sh", image, "-c",
                                       "echo $HOME $GREETING; id -G"});
    CHECK(shell.out == "/home/app hello\n1000 50\n");
    Outcome missing_user = dockling_in(root, {"run", "--rm", "-u", "nobody-here", image});
    CHECK(missing_user.exit_code == 125);
    CHECK(contains(missing_user.err, "nobody-here"));
}

TEST_CASE("an image's layers are unpacked once, shared, and whiteouts hide what is below", "[ch05][run][ex5.4]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    REQUIRE(dockling_in(root, {"run", "--rm", registry + "/busybox", "/bin/true"}).exit_code == 0);
    Outcome listed = dockling_in(root, {"run", "--rm", "--entrypoint", "/bin/sh", registry + "/layers", "-c",
                                        "ls /etc/motd 2>&1; ls /srv/data"});
    INFO(listed.err);
    CHECK(listed.exit_code == 0);
    CHECK(listed.out == "ls: /etc/motd: No such file or directory\nc\n");
    CHECK(unpacked_layers(root) == 4);  // busybox's layer is the first of layers' four
}

TEST_CASE("gzip and zstd images run", "[ch05][run][ex5.4]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string registry = fixture_registry().address();
    TempDir root;
    for (const char* name : {"/busybox", "/zstd"}) {
        Outcome ran = dockling_in(root, {"run", "--rm", registry + name, "/bin/echo", "ok"});
        INFO(name << ": " << ran.err);
        CHECK(ran.exit_code == 0);
        CHECK(ran.out == "ok\n");
    }
}

TEST_CASE("an image whose layer does not match its diff_id is refused, and nothing runs", "[ch05][run][errors]")
{
    DOCKLING_REQUIRE_REGISTRY();
    TempDir root;
    Outcome ran = dockling_in(root, {"run", "--rm", fixture_registry().address() + "/baddiff", "/bin/echo", "ran"});
    CHECK(ran.exit_code == 125);
    CHECK_FALSE(contains(ran.out, "ran"));
    CHECK(contains(ran.err, "does not match"));
    CHECK(unpacked_layers(root) == 0);
    CHECK(dockling_in(root, {"images", "-q"}).out.empty());
}

TEST_CASE("a container of an image is kept until rm; rmi refuses its image unless -f", "[ch05][run][rmi][ex5.4]")
{
    DOCKLING_REQUIRE_REGISTRY();
    const std::string image = fixture_registry().address() + "/busybox";
    TempDir root;
    Outcome ran = dockling_in(root, {"run", "--name", "keeper", image, "/bin/sh", "-c", "echo x > /made-here"});
    INFO(ran.err);
    REQUIRE(ran.exit_code == 0);
    CHECK(dockling_in(root, {"diff", "keeper"}).out == "A /made-here\n");

    Outcome refused = dockling_in(root, {"rmi", image});
    CHECK(refused.exit_code == 125);
    CHECK(contains(refused.err, "conflict: unable to remove repository reference"));
    CHECK(contains(refused.err, "(must force)"));
    CHECK(contains(dockling_in(root, {"images"}).out, image));

    CHECK(dockling_in(root, {"rm", "keeper"}).exit_code == 0);
    CHECK(dockling_in(root, {"rmi", image}).exit_code == 0);
    CHECK(dockling_in(root, {"images", "-q"}).out.empty());
    CHECK(unpacked_layers(root) == 0);  // the image's layers went with it
}

TEST_CASE("run with a bad image reference exits 125 with one line", "[ch05][run][errors]")
{
    TempDir root;
    Outcome ran = dockling_in(root, {"run", "--rm", "Not//A:Valid@Ref", "/bin/true"});
    CHECK(ran.exit_code == 125);
    CHECK(!ran.err.empty());
    CHECK(ran.err.find('\n') == ran.err.size() - 1);
}
