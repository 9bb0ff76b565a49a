// Chapter 04: the vfs driver, chosen in the config file or automatically when overlayfs
// cannot be mounted on the data root.
#include "ch04_support.hpp"

#include <sys/mount.h>

using namespace ch04;
using dockling::test::busybox_rootfs;
using dockling::test::read_file;
using dockling::test::write_file;

namespace {

/// An overlay mount of this test's own, detached when the test ends.
class TestOverlay {
public:
    explicit TestOverlay(const fs::path& dir) : merged_(dir / "merged")
    {
        for (const auto& made : {dir / "lower", dir / "upper", dir / "work", merged_}) {
            fs::create_directories(made);
        }
        std::string options = "lowerdir=" + (dir / "lower").string() + ",upperdir=" + (dir / "upper").string() +
                              ",workdir=" + (dir / "work").string();
        REQUIRE(::mount("overlay", merged_.c_str(), "overlay", 0, options.c_str()) == 0);
    }
    ~TestOverlay() { ::umount2(merged_.c_str(), MNT_DETACH); }
    TestOverlay(const TestOverlay&) = delete;
    TestOverlay& operator=(const TestOverlay&) = delete;
    [[nodiscard]] const fs::path& merged() const { return merged_; }

private:
    fs::path merged_;
};

}  // namespace

TEST_CASE("storage-driver vfs copies the layers; the layers stay untouched", "[ch04][fallback]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    fs::path config = storage.scratch() / "config.json";
    write_file(config, R"({"storage-driver": "vfs"})");
    std::string before = fingerprint(busybox_rootfs());
    Outcome ran = storage.run({"--config", config.string(), "run", "--name", "copied", "--layer",
                               busybox_rootfs().string(), "/bin/sh", "-c",
                               "echo hi > /hello; rm /etc/passwd; echo x >> /etc/group; cat /hello"});
    INFO(ran.err);
    REQUIRE(ran.exit_code == 0);
    CHECK(ran.out == "hi\n");
    CHECK(ran.err.empty());  // chosen, not fallen back to: nothing to say
    CHECK(fingerprint(busybox_rootfs()) == before);

    fs::path dir = storage.only_container();
    CHECK(read_file(dir / "rootfs/hello") == "hi\n");
    CHECK_FALSE(fs::exists(dir / "upper"));
    CHECK(read_file(dir / "config.json").find("\"storage-driver\": \"vfs\"") != std::string::npos);
    CHECK(storage.run({"diff", "copied"}).out == "C /etc\nC /etc/group\nD /etc/passwd\nA /hello\n");

    fs::path layer = storage.scratch() / "layer.tar";
    REQUIRE(storage.run({"layer", "save", "copied", layer.string()}).exit_code == 0);
    std::string listing = tar_listing(layer);
    CHECK(listing.find(" etc/.wh.passwd\n") != std::string::npos);
    CHECK(listing.find(" hello\n") != std::string::npos);
    CHECK(listing.find(" bin/") == std::string::npos);  // only the changes

    CHECK(storage.run({"rm", "copied"}).exit_code == 0);
    CHECK(storage.containers().empty());
}

TEST_CASE("where overlayfs cannot be mounted, dockling says so in one line and copies", "[ch04][fallback]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    // overlayfs refuses an upper directory that is itself on overlayfs.
    TestOverlay overlay(storage.scratch() / "nested");
    std::vector<std::string> global{"--data-root", (overlay.merged() / "data").string()};
    auto run = [&](std::vector<std::string> args) {
        args.insert(args.begin(), global.begin(), global.end());
        return dockling::test::run_dockling(args);
    };

    Outcome ran = run({"run", "--name", "fallback", "--layer", busybox_rootfs().string(), "/bin/sh", "-c",
                       "echo hi > /hello; cat /hello"});
    CHECK(ran.exit_code == 0);
    CHECK(ran.out == "hi\n");
    CHECK(ran.err.find("overlayfs cannot be used here (mount overlay on ") != std::string::npos);
    CHECK(ran.err.find("copying the layers instead (storage driver vfs)") != std::string::npos);
    CHECK(std::count(ran.err.begin(), ran.err.end(), '\n') == 1);
    CHECK(run({"diff", "fallback"}).out == "A /hello\n");
    CHECK(run({"rm", "fallback"}).exit_code == 0);
    CHECK(fs::is_empty(overlay.merged() / "data/containers"));

    // Asked for overlay explicitly, it fails instead, and leaves nothing.
    write_file(storage.scratch() / "overlay.json", R"({"storage-driver": "overlay"})");
    global.insert(global.begin(), {"--config", (storage.scratch() / "overlay.json").string()});
    Outcome forced = run({"run", "--layer", busybox_rootfs().string(), "/bin/true"});
    CHECK(forced.exit_code == 125);
    CHECK(forced.err.find("mount overlay on ") != std::string::npos);
    CHECK(fs::is_empty(overlay.merged() / "data/containers"));
}
