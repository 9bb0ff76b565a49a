// Chapter 04: what a container changed, as `docker diff` lists it.
#include "ch04_support.hpp"

#include "changes.hpp"
#include "layer_view.hpp"
#include "vfs.hpp"

#include <sys/xattr.h>

using namespace ch04;
using dockling::Change;
using dockling::ChangeKind;
using dockling::test::busybox_rootfs;
using dockling::test::TempDir;
using dockling::test::write_file;

namespace {

/// Two layers: the lower one has /etc/{passwd,group}, /data/{a,b}, /old/x; the upper
/// one adds /etc/hosts and deletes /old/x with a whiteout.
std::vector<fs::path> two_layers(const fs::path& where)
{
    fs::path lower = where / "lower", upper = where / "upper-layer";
    for (const auto& dir : {lower / "etc", lower / "data", lower / "old", upper / "etc", upper / "old"}) {
        fs::create_directories(dir);
    }
    write_file(lower / "etc/passwd", "root\n");
    write_file(lower / "etc/group", "root\n");
    write_file(lower / "data/a", "a\n");
    write_file(lower / "data/b", "b\n");
    write_file(lower / "old/x", "x\n");
    write_file(upper / "etc/hosts", "localhost\n");
    REQUIRE(::mknod((upper / "old/x").c_str(), S_IFCHR, makedev(0, 0)) == 0);
    return {lower, upper};
}

}  // namespace

TEST_CASE("the merged view of layers honours whiteouts and opaque directories", "[ch04][unit]")
{
    DOCKLING_REQUIRE_ROOT();  // whiteouts are device nodes, opaque marks trusted.* xattrs
    TempDir dir;
    auto layers = two_layers(dir.path());
    fs::path top = dir.path() / "top";
    fs::create_directories(top / "data");
    write_file(top / "data/c", "c\n");
    REQUIRE(::setxattr((top / "data").c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0);
    layers.push_back(top);

    dockling::LayerView view(layers);
    CHECK(view.find("etc/passwd") != nullptr);
    CHECK(view.find("etc/hosts")->layer == 1);
    CHECK(view.find("old/x") == nullptr);
    CHECK(view.children("old").empty());
    CHECK(view.children("data") == std::vector<std::string>{"c"});
    CHECK(view.children("") == std::vector<std::string>{"data", "etc", "old"});
}

TEST_CASE("changes in an upper directory: whiteouts are D, known paths C, new ones A", "[ch04][unit][ex4.3]")
{
    DOCKLING_REQUIRE_ROOT();  // whiteouts are device nodes, opaque marks trusted.* xattrs
    TempDir dir;
    dockling::LayerView lower(two_layers(dir.path()));
    fs::path upper = dir.path() / "container-upper";
    for (const auto& made : {upper / "etc", upper / "data", upper / "new/deeper"}) {
        fs::create_directories(made);
    }
    write_file(upper / "etc/passwd", "root\nuser\n");                                // changed
    REQUIRE(::mknod((upper / "etc/group").c_str(), S_IFCHR, makedev(0, 0)) == 0);   // deleted
    write_file(upper / "new/deeper/file", "");                                      // added, with parents
    write_file(upper / "data/b", "b again\n");                                      // rewritten in...
    REQUIRE(::setxattr((upper / "data").c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0);  // ...a new /data

    std::vector<Change> expected{
        {ChangeKind::changed, "/data"},     {ChangeKind::deleted, "/data/a"}, {ChangeKind::changed, "/data/b"},
        {ChangeKind::changed, "/etc"},      {ChangeKind::deleted, "/etc/group"},
        {ChangeKind::changed, "/etc/passwd"}, {ChangeKind::added, "/new"},  {ChangeKind::added, "/new/deeper"},
        {ChangeKind::added, "/new/deeper/file"},
    };
    auto changes = dockling::changes_in_upper(upper, lower);
    CHECK(dockling::format_changes(changes) == dockling::format_changes(expected));
}

TEST_CASE("diff lists a container's changes like docker diff", "[ch04][run][ex4.3]")
{
    DOCKLING_REQUIRE_ROOT();
    Storage storage;
    Outcome ran = storage.run({"run", "--name", "changed", "--layer", busybox_rootfs().string(), "/bin/sh", "-c",
                               "echo hi > /hello; rm /etc/passwd; echo x >> /etc/group; mkdir -p /srv/www; "
                               "touch /srv/www/index.html; rm -rf /home"});
    REQUIRE(ran.exit_code == 0);
    Outcome diff = storage.run({"diff", "changed"});
    CHECK(diff.exit_code == 0);
    CHECK(diff.out ==
          "C /etc\n"
          "C /etc/group\n"
          "D /etc/passwd\n"
          "A /hello\n"
          "D /home\n"
          "A /srv\n"
          "A /srv/www\n"
          "A /srv/www/index.html\n");

    Outcome unchanged = storage.run({"run", "--name", "quiet", "--layer", busybox_rootfs().string(), "/bin/true"});
    REQUIRE(unchanged.exit_code == 0);
    CHECK(storage.run({"diff", "quiet"}).out.empty());
    storage.run({"rm", "changed", "quiet"});
}

TEST_CASE("a full copy is compared with its layers entry by entry (vfs)", "[ch04][unit]")
{
    DOCKLING_REQUIRE_ROOT();  // copies owners
    TempDir dir;
    dockling::LayerView layers(two_layers(dir.path()));
    fs::path copy = dir.path() / "copy";
    dockling::copy_layers(layers, copy);
    CHECK(dockling::changes_between(layers, copy).empty());
    CHECK_FALSE(fs::exists(copy / "old/x"));  // the whiteout deleted it
    CHECK(fs::exists(copy / "etc/hosts"));

    write_file(copy / "etc/passwd", "root\nuser\n");
    fs::remove(copy / "etc/group");
    fs::remove_all(copy / "data");
    fs::create_directories(copy / "new");
    REQUIRE(::chmod((copy / "etc/hosts").c_str(), 0600) == 0);
    CHECK(dockling::format_changes(dockling::changes_between(layers, copy)) ==
          "D /data\n"
          "C /etc\n"
          "D /etc/group\n"
          "C /etc/hosts\n"
          "C /etc/passwd\n"
          "A /new\n");
}
