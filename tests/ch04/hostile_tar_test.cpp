// Chapter 04: hostile layer tarballs are refused, and nothing is written outside the target.
//
// Each archive aims at a directory next to the target ("outside"), which holds a canary
// file. Absolute names and symlinks point there too (never at the real /etc), so even a
// broken extractor would only damage this test's own temporary directory.
#include "ch04_support.hpp"

#include "error.hpp"
#include "layer_tar.hpp"

#include <functional>

using namespace ch04;
using dockling::test::read_file;
using dockling::test::TempDir;
using dockling::test::write_file;

namespace {

/// A target directory, an "outside" directory with a canary in it, and a check that
/// an archive is refused without touching anything but the target.
class Arena {
public:
    Arena()
    {
        fs::create_directories(outside());
        write_file(canary(), "canary\n");
        before_ = fingerprint(dir_.path() / "outside");
    }
    [[nodiscard]] fs::path target() const { return dir_.path() / "target"; }
    [[nodiscard]] fs::path outside() const { return dir_.path() / "outside"; }
    [[nodiscard]] fs::path canary() const { return outside() / "canary"; }
    /// The absolute path of `outside`, without its leading '/' (for names through "/" links).
    [[nodiscard]] std::string outside_from_root() const { return outside().string().substr(1); }

    /// Builds an archive with `build`, applies it with `limits`, and checks that it is
    /// refused with one line containing `says`, and that nothing outside the target changed.
    void refuses(const std::function<void(TarBuilder&)>& build, const std::string& says,
                 const dockling::ExtractLimits& limits = {}, int filter = ARCHIVE_FILTER_NONE)
    {
        fs::path archive = dir_.path() / ("archive-" + std::to_string(++count_));
        {
            TarBuilder tar(archive, filter);
            build(tar);
        }
        std::string message;
        try {
            dockling::apply_layer_tar(archive, target(), limits);
        } catch (const dockling::Error& error) {
            message = error.what();
        }
        INFO("error: " << message);
        CHECK(message.find(says) != std::string::npos);
        CHECK(message.find('\n') == std::string::npos);
        CHECK(fingerprint(outside()) == before_);
        CHECK(lstat_of(canary()).st_nlink == 1);  // no hard link to it was made
        std::vector<std::string> here;
        for (const auto& entry : fs::directory_iterator(dir_.path())) {
            here.push_back(entry.path().filename().string());
        }
        for (const auto& name : here) {  // nothing new next to the target either
            CHECK((name == "target" || name == "outside" || name.rfind("archive-", 0) == 0));
        }
        fs::remove_all(target());
    }

private:
    TempDir dir_;
    std::string before_;
    int count_ = 0;
};

}  // namespace

TEST_CASE("hostile names are refused: .., absolute paths, the target itself", "[ch04][tar][hostile]")
{
    DOCKLING_REQUIRE_ROOT();
    Arena arena;
    arena.refuses([](TarBuilder& t) { t.file("../outside/pwned", "x"); }, "\"..\" would climb out");
    arena.refuses([](TarBuilder& t) { t.dir("a").file("a/../../outside/pwned", "x"); }, "\"..\" would climb out");
    arena.refuses([&](TarBuilder& t) { t.file((arena.outside() / "pwned").string(), "x"); }, "an absolute path");
    arena.refuses([](TarBuilder& t) { t.symlink("/", "/"); }, "an absolute path");
    arena.refuses([](TarBuilder& t) { t.symlink(".", "/"); }, "would replace the target directory itself");
    arena.refuses([](TarBuilder& t) { t.symlink("./", "/"); }, "would replace the target directory itself");
    arena.refuses([](TarBuilder& t) { t.file("ok", "x").file("bad\nname/../..", "x"); }, "\\x0a");
}

TEST_CASE("hostile symlinks are refused: nothing is written through them", "[ch04][tar][hostile]")
{
    DOCKLING_REQUIRE_ROOT();
    Arena arena;
    // A symlink to / and a file beneath it.
    arena.refuses([&](TarBuilder& t) { t.symlink("root", "/").file("root/" + arena.outside_from_root() + "/pwned", "x"); },
                  "\"root/" + arena.outside_from_root() + "\" leads out of the target directory");
    // A symlink straight to the outside directory.
    arena.refuses([&](TarBuilder& t) { t.symlink("out", arena.outside().string()).file("out/pwned", "x"); },
                  "leads out of the target directory");
    // Chained symlinks: each one harmless-looking, the last one leaves.
    arena.refuses([](TarBuilder& t) { t.dir("d").symlink("d/a", "b").symlink("d/b", "../../outside").file("d/a/pwned", "x"); },
                  "leads out of the target directory");
    // A directory replaced by a symlink, then written through.
    arena.refuses([&](TarBuilder& t) { t.dir("d").file("d/fine", "x").symlink("d", arena.outside().string()).file("d/pwned", "x"); },
                  "leads out of the target directory");
    // Overwriting a file through a symlink named like it.
    arena.refuses([&](TarBuilder& t) { t.symlink("dir", arena.outside().string()).file("dir/canary", "pwned"); },
                  "leads out of the target directory");
    // A whiteout under a symlinked directory would delete the canary.
    arena.refuses([&](TarBuilder& t) { t.symlink("sym", arena.outside().string()).file("sym/.wh.canary", ""); },
                  "leads out of the target directory");
}

TEST_CASE("hostile hard links are refused: no link to anything outside", "[ch04][tar][hostile]")
{
    DOCKLING_REQUIRE_ROOT();
    Arena arena;
    arena.refuses([](TarBuilder& t) { t.hardlink("link", "../outside/canary"); }, "hard link to \"../outside/canary\"");
    arena.refuses([&](TarBuilder& t) { t.hardlink("link", arena.canary().string()); }, "an absolute path");
    arena.refuses([&](TarBuilder& t) { t.symlink("sym", arena.outside().string()).hardlink("link", "sym/canary"); },
                  "leads out of the target directory");
    arena.refuses([](TarBuilder& t) { t.symlink("up", "..").hardlink("link", "up/outside/canary"); },
                  "leads out of the target directory");
    arena.refuses([](TarBuilder& t) { t.hardlink("link", "never-made"); }, "which the archive has not made");
    arena.refuses([](TarBuilder& t) { t.hardlink("link", "."); }, "a hard link to the target directory itself");
}

TEST_CASE("archive bombs are stopped by the limits on bytes, entries and name length", "[ch04][tar][hostile]")
{
    DOCKLING_REQUIRE_ROOT();
    Arena arena;
    dockling::ExtractLimits small;
    small.max_total_bytes = 1 << 20;
    small.max_entries = 10;
    small.max_path_length = 200;
    for (int filter : {ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_ZSTD, ARCHIVE_FILTER_NONE}) {
        // 16 MiB of zeros compress to a few kilobytes.
        arena.refuses([](TarBuilder& t) { t.zeros("bomb", 16 << 20); }, "more than 1048576 bytes uncompressed",
                      small, filter);
    }
    arena.refuses([](TarBuilder& t) {
        for (int i = 0; i < 11; ++i) {
            t.file("f" + std::to_string(i), "");
        }
    }, "more than 10 entries", small);
    arena.refuses([](TarBuilder& t) { t.file(std::string(201, 'n'), ""); }, "a name of 201 bytes is longer than the limit of 200",
                  small);
    arena.refuses([](TarBuilder& t) { t.symlink("link", std::string(201, 't')); }, "longer than the limit", small);

    // Within the limits, the same kinds of archives are fine.
    fs::path fine = arena.target().parent_path() / "archive-fine";
    {
        TarBuilder t(fine, ARCHIVE_FILTER_GZIP);
        t.zeros("data", 500000).file(std::string(200, 'n'), "");
    }
    dockling::apply_layer_tar(fine, arena.target(), small);
    CHECK(fs::file_size(arena.target() / "data") == 500000);
    fs::remove_all(arena.target());
    fs::remove(fine);
}

TEST_CASE("whiteouts that name nothing are refused: .wh., .wh.., .wh...", "[ch04][tar][hostile][ex4.2]")
{
    DOCKLING_REQUIRE_ROOT();
    Arena arena;
    for (std::string name : {".wh.", ".wh..", ".wh..."}) {
        INFO(name);
        // A valid whiteout first: it is made, then the invalid one stops the archive.
        arena.refuses([&](TarBuilder& t) { t.file(".wh.fine", "").dir("d").file("d/" + name, ""); },
                      "invalid whiteout \"" + name + "\"");
    }
    fs::path valid = arena.target().parent_path() / "archive-valid";
    {
        TarBuilder t(valid);
        t.file(".wh.fine", "");
    }
    dockling::apply_layer_tar(valid, arena.target());
    CHECK(is_whiteout_node(arena.target() / "fine"));
    fs::remove_all(arena.target());
    fs::remove(valid);
}

TEST_CASE("layer apply refuses a hostile archive with one line and exit 125", "[ch04][tar][hostile][cli]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    fs::path archive = storage.scratch() / "evil.tar";
    {
        TarBuilder t(archive);
        t.symlink("escape", "/").file("escape/" + (storage.scratch() / "pwned").string().substr(1), "x");
    }
    Outcome applied = storage.run({"layer", "apply", archive.string(), (storage.scratch() / "target").string()});
    CHECK(applied.exit_code == 125);
    CHECK(applied.err.find("leads out of the target directory through a symlink") != std::string::npos);
    CHECK(std::count(applied.err.begin(), applied.err.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(storage.scratch() / "pwned"));
}
