// Chapter 04: the overlay mount, its options, and copy-on-write as a container sees it.
#include "ch04_support.hpp"

#include "overlay.hpp"

#include <sys/xattr.h>
#include <unistd.h>

#include <map>

using namespace ch04;
using dockling::test::busybox_rootfs;
using dockling::test::read_file;
using dockling::test::TempDir;
using dockling::test::write_file;

namespace {

/// A small extra layer: /layer.txt, /data/a, /data/b, /etc/motd.
fs::path make_extra_layer(const fs::path& where)
{
    fs::create_directories(where / "data");
    fs::create_directories(where / "etc");
    write_file(where / "layer.txt", "from the layer\n");
    write_file(where / "data/a", "a\n");
    write_file(where / "data/b", "b\n");
    write_file(where / "etc/motd", "welcome\n");
    return where;
}

/// The parts of overlay mount options: {"lowerdir" -> "...", ...}.
std::map<std::string, std::string> option_map(const std::string& options)
{
    std::map<std::string, std::string> parts;
    size_t start = 0;
    while (start <= options.size()) {
        size_t comma = options.find(',', start);
        std::string part = options.substr(start, comma - start);
        auto equals = part.find('=');
        parts[part.substr(0, equals)] = equals == std::string::npos ? "" : part.substr(equals + 1);
        if (comma == std::string::npos) {
            break;
        }
        start = comma + 1;
    }
    return parts;
}

std::vector<std::string> split(const std::string& text, char separator)
{
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t at; (at = text.find(separator, start)) != std::string::npos; start = at + 1) {
        parts.push_back(text.substr(start, at - start));
    }
    parts.push_back(text.substr(start));
    return parts;
}

}  // namespace

TEST_CASE("overlay options list the layers top first, escaped", "[ch04][unit]")
{
    dockling::OverlayDirs dirs{{"/layers/base", "/layers/a,b", "/layers/c:d"}, "/c/upper", "/c/work"};
    CHECK(dockling::overlay_options(dirs) ==
          "lowerdir=/layers/c\\:d:/layers/a\\,b:/layers/base,upperdir=/c/upper,workdir=/c/work");
    CHECK(dockling::escape_overlay_path("a\\b") == "a\\\\b");
    CHECK(dockling::mount_options_limit() == static_cast<size_t>(::sysconf(_SC_PAGESIZE)) - 1);
}

TEST_CASE("compact overlay options name the layers by short links, relative to the container", "[ch04][unit][ex4.1]")
{
    TempDir dir;
    fs::path base = dir.path() / "container";
    fs::create_directories(base / "upper");
    fs::create_directories(base / "work");
    dockling::OverlayDirs dirs;
    for (int i = 0; i < 3; ++i) {
        dirs.lower.push_back(dir.path() / ("a-rather-long-layer-directory-name-" + std::to_string(i)));
        fs::create_directories(dirs.lower.back());
    }
    dirs.upper = base / "upper";
    dirs.work = base / "work";

    std::string options = dockling::compact_overlay_options(base, dirs);
    auto parts = option_map(options);
    CHECK(parts["upperdir"] == "upper");
    CHECK(parts["workdir"] == "work");
    auto lower = split(parts["lowerdir"], ':');
    REQUIRE(lower.size() == 3);
    for (size_t i = 0; i < lower.size(); ++i) {  // top first: lower[0] is the last layer
        INFO("lowerdir entry " << lower[i]);
        CHECK(fs::path(lower[i]).is_relative());
        CHECK(lower[i].size() <= 6);
        CHECK(fs::canonical(base / lower[i]) == fs::canonical(dirs.lower[2 - i]));
    }

    // Overlayfs's most layers, however long their paths: the options still fit in a page.
    dockling::OverlayDirs many{{}, base / "upper", base / "work"};
    many.lower.assign(dockling::max_overlay_layers, dir.path() / std::string(200, 'x'));
    fs::path other = dir.path() / "other";
    fs::create_directories(other);
    CHECK(dockling::compact_overlay_options(other, many).size() <= dockling::mount_options_limit());
}

TEST_CASE("writes land in the container's layer; the layers never change", "[ch04][run]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    fs::path extra = make_extra_layer(storage.scratch() / "extra");
    std::string base_before = fingerprint(busybox_rootfs());
    std::string extra_before = fingerprint(extra);

    Outcome ran = storage.run({"run", "--name", "cow", "--layer", busybox_rootfs().string(), "--layer", extra.string(),
                               "/bin/sh", "-c",
                               "echo new > /new.txt; echo more >> /layer.txt; rm /data/a; chmod 600 /etc/motd; "
                               "mkdir /made; mv /data/b /made/b; cat /layer.txt; ls /data"});
    INFO(ran.err);
    REQUIRE(ran.exit_code == 0);
    CHECK(ran.out == "from the layer\nmore\n");  // the container saw its own write; /data is empty now

    CHECK(fingerprint(busybox_rootfs()) == base_before);
    CHECK(fingerprint(extra) == extra_before);
    fs::path upper = storage.only_container() / "upper";
    CHECK(read_file(upper / "new.txt") == "new\n");
    CHECK(read_file(upper / "layer.txt") == "from the layer\nmore\n");  // copied up, then written
    CHECK(is_whiteout_node(upper / "data/a"));
    CHECK((lstat_of(upper / "etc/motd").st_mode & 07777) == 0600);
    CHECK(read_file(upper / "made/b") == "b\n");
    CHECK_FALSE(fs::exists(upper / "bin"));  // what was only read was never copied
    CHECK_FALSE(mountinfo_mentions(storage.only_container().string()));
    CHECK(storage.run({"rm", "cow"}).exit_code == 0);
}

TEST_CASE("two containers on one base see only their own writes", "[ch04][run]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    std::string base = busybox_rootfs().string();
    std::string before = fingerprint(busybox_rootfs());
    Outcome first = storage.run({"run", "--name", "first", "--layer", base, "/bin/sh", "-c", "echo first > /who"});
    Outcome second = storage.run({"run", "--name", "second", "--layer", base, "/bin/sh", "-c",
                                  "cat /who 2>/dev/null || echo 'no /who here'; echo second > /who; cat /who"});
    REQUIRE(first.exit_code == 0);
    REQUIRE(second.exit_code == 0);
    CHECK(second.out == "no /who here\nsecond\n");
    CHECK(fingerprint(busybox_rootfs()) == before);
    CHECK_FALSE(fs::exists(busybox_rootfs() / "who"));
    CHECK(storage.run({"rm", "first", "second"}).out == "first\nsecond\n");
    CHECK(storage.containers().empty());
}

TEST_CASE("deleting a lower file makes a whiteout; re-making a directory makes it opaque", "[ch04][run]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    fs::path extra = make_extra_layer(storage.scratch() / "extra");
    Outcome ran = storage.run({"run", "--name", "wh", "--layer", busybox_rootfs().string(), "--layer", extra.string(),
                               "/bin/sh", "-c",
                               "rm /etc/motd; test -e /etc/motd || echo motd gone; "
                               "rm -rf /data; mkdir /data; echo c > /data/c; ls /data"});
    INFO(ran.err);
    REQUIRE(ran.exit_code == 0);
    CHECK(ran.out == "motd gone\nc\n");

    fs::path upper = storage.only_container() / "upper";
    CHECK(is_whiteout_node(upper / "etc/motd"));
    char value[8] = {};
    ssize_t size = ::lgetxattr((upper / "data").c_str(), "trusted.overlay.opaque", value, sizeof value);
    CHECK(std::string(value, size > 0 ? static_cast<size_t>(size) : 0) == "y");
    CHECK(fs::exists(extra / "etc/motd"));  // still in the layer, only hidden
    CHECK(fs::exists(extra / "data/a"));

    // A later container on the same layers sees them whole again.
    Outcome fresh = storage.run({"run", "--rm", "--layer", busybox_rootfs().string(), "--layer", extra.string(),
                                 "/bin/sh", "-c", "cat /etc/motd; ls /data"});
    CHECK(fresh.out == "welcome\na\nb\n");
    storage.run({"rm", "wh"});
}

TEST_CASE("more than 100 layers fit in one mount", "[ch04][run][ex4.1]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    const int count = 120;
    std::vector<std::string> args{"run", "--rm", "--layer", busybox_rootfs().string()};
    dockling::OverlayDirs dirs{{busybox_rootfs()}, "/upper", "/work"};
    for (int i = 1; i <= count; ++i) {
        fs::path layer = storage.scratch() / "layers" / ("layer-number-" + std::to_string(1000 + i));
        fs::create_directories(layer / "from");
        write_file(layer / "top", std::to_string(i) + "\n");           // each layer overrides the one below
        write_file(layer / "from" / std::to_string(i), "");             // and adds a file of its own
        args.insert(args.end(), {"--layer", layer.string()});
        dirs.lower.push_back(layer);
    }
    // The layers' full paths alone are more than mount(2) takes: this is the hard case.
    REQUIRE(dockling::overlay_options(dirs).size() > dockling::mount_options_limit());

    args.insert(args.end(), {"/bin/sh", "-c", "cat /top; ls /from | wc -l"});
    Outcome ran = storage.run(args);
    INFO(ran.err);
    CHECK(ran.exit_code == 0);
    CHECK(ran.out == "120\n120\n");
    CHECK(storage.containers().empty());
    CHECK_FALSE(mountinfo_mentions(storage.root().string()));
}

TEST_CASE("more layers than overlayfs stacks are refused, naming the limit", "[ch04][run][errors]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    std::vector<std::string> args{"run"};
    for (int i = 0; i <= 500; ++i) {
        fs::path layer = storage.scratch() / "l" / std::to_string(i);
        fs::create_directories(layer);
        args.insert(args.end(), {"--layer", layer.string()});
    }
    args.push_back("/bin/true");
    Outcome ran = storage.run(args);
    CHECK(ran.exit_code == 125);
    CHECK(ran.err.find("501 layers are too many: overlayfs stacks at most 500") != std::string::npos);
    CHECK(std::count(ran.err.begin(), ran.err.end(), '\n') == 1);
    CHECK(storage.containers().empty());
}

TEST_CASE("bad layers, names and settings are refused with one line, leaving nothing", "[ch04][run][errors]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    std::string base = busybox_rootfs().string();
    write_file(storage.scratch() / "file", "x");
    write_file(storage.scratch() / "bad-driver.json", R"({"storage-driver": "aufs"})");
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    std::vector<Case> cases{
        {{"run", "--layer", "/nonexistent/layer", "/bin/true"}, "layer /nonexistent/layer: No such file or directory"},
        {{"run", "--layer", (storage.scratch() / "file").string(), "/bin/true"}, "not a directory"},
        {{"run", "--layer", base, "--rootfs", base, "/bin/true"}, "either as --rootfs DIR or as layers with --layer DIR"},
        {{"run", "--layer", base, "--name", "bad/name", "/bin/true"}, "invalid container name \"bad/name\""},
        {{"run", "--rootfs", base, "--name", "named", "/bin/true"}, "only containers on layers (--layer) are kept"},
        // From chapter 05 on, without --rootfs or --layer the first word names an image.
        {{"run", "/bin/true"}, dockling::test::chapter_under_test() >= 5 ? "invalid reference format \"/bin/true\""
                                                                         : "no root filesystem: give one with --rootfs DIR"},
        {{"--config", (storage.scratch() / "bad-driver.json").string(), "run", "--layer", base, "/bin/true"},
         "\"storage-driver\" must be \"overlay\" or \"vfs\""},
    };
    for (const auto& c : cases) {
        INFO([&] { std::string s; for (auto& a : c.args) s += a + " "; return s; }());
        Outcome ran = storage.run(c.args);
        CHECK(ran.exit_code == 125);
        CHECK(ran.err.find(c.says) != std::string::npos);
        CHECK(std::count(ran.err.begin(), ran.err.end(), '\n') == 1);
        CHECK(storage.containers().empty());
    }

    // A name is one container's: the second `run --name` is refused, the first stays.
    CHECK(storage.run({"run", "--name", "taken", "--layer", base, "/bin/true"}).exit_code == 0);
    Outcome again = storage.run({"run", "--name", "taken", "--layer", base, "/bin/true"});
    CHECK(again.exit_code == 125);
    CHECK(again.err.find("the container name \"taken\" is already in use") != std::string::npos);
    CHECK(storage.containers().size() == 1);
    storage.run({"rm", "taken"});
}
