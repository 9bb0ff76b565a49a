// Chapter 05: how an image config becomes a container's command, environment, directory
// and user (the pure logic `run IMAGE` will use at the integration with chapter 04).
#include "harness.hpp"

#include "error.hpp"
#include "image_config.hpp"

using namespace dockling;
namespace fs = std::filesystem;

namespace {

RunDefaults image(std::vector<std::string> entrypoint, std::vector<std::string> cmd)
{
    RunDefaults defaults;
    defaults.entrypoint = std::move(entrypoint);
    defaults.cmd = std::move(cmd);
    return defaults;
}

RunRequest asked(std::optional<std::string> entrypoint, std::vector<std::string> args)
{
    RunRequest request;
    request.entrypoint = std::move(entrypoint);
    request.args = std::move(args);
    return request;
}

using Words = std::vector<std::string>;

/// A root with an /etc/passwd and /etc/group like a small distribution's.
fs::path make_root(const test::TempDir& dir)
{
    fs::path root = dir.path() / "root";
    fs::create_directories(root / "etc");
    test::write_file(root / "etc" / "passwd",
                     "root:x:0:0:root:/root:/bin/sh\n"
                     "# a comment\n"
                     "app:x:1000:1000:App:/home/app:/bin/sh\n"
                     "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                     "nohome:x:1001:1001::\n");
    test::write_file(root / "etc" / "group",
                     "root:x:0:\n"
                     "app:x:1000:\n"
                     "staff:x:50:app,other\n"
                     "audio:x:29:other,app\n"
                     "nogroup:x:65534:\n");
    return root;
}

}  // namespace

TEST_CASE("Entrypoint and Cmd combine by Docker's rules", "[ch05][unit][config]")
{
    CHECK(container_command(image({}, {"sh"}), asked({}, {})) == Words{"sh"});
    CHECK(container_command(image({}, {"sh"}), asked({}, {"echo", "hi"})) == Words{"echo", "hi"});
    CHECK(container_command(image({"/bin/hello"}, {"world"}), asked({}, {})) == Words{"/bin/hello", "world"});
    CHECK(container_command(image({"/bin/hello"}, {"world"}), asked({}, {"you"})) == Words{"/bin/hello", "you"});
    // --entrypoint replaces the entrypoint and drops the image's Cmd
    CHECK(container_command(image({"/bin/hello"}, {"world"}), asked("/bin/ls", {})) == Words{"/bin/ls"});
    CHECK(container_command(image({"/bin/hello"}, {"world"}), asked("/bin/ls", {"-l"})) == Words{"/bin/ls", "-l"});
    // --entrypoint "" clears it
    CHECK(container_command(image({"/bin/hello"}, {"world"}), asked("", {"id"})) == Words{"id"});
    CHECK_THROWS_WITH(container_command(image({"/bin/hello"}, {"world"}), asked("", {})),
                      Catch::Contains("no command specified"));
    CHECK_THROWS_WITH(container_command(image({}, {}), asked({}, {})), Catch::Contains("no command specified"));
}

TEST_CASE("the image's Env, -e over it, and HOME", "[ch05][unit][config]")
{
    RunDefaults defaults;
    defaults.env = {"PATH=/usr/bin:/bin", "GREETING=hello", "EMPTY="};
    RunRequest request;
    request.env = {"GREETING=bonjour", "NEW=1"};
    CHECK(container_env(defaults, request, "/home/app") ==
          Words{"PATH=/usr/bin:/bin", "GREETING=bonjour", "EMPTY=", "NEW=1", "HOME=/home/app"});
    request.env = {"HOME=/elsewhere"};
    CHECK(container_env(defaults, request, "/home/app").back() == "HOME=/elsewhere");
}

TEST_CASE("the working directory: -w, else the image's, else /", "[ch05][unit][config]")
{
    RunDefaults defaults;
    CHECK(container_workdir(defaults, {}) == "/");
    defaults.working_dir = "/srv";
    CHECK(container_workdir(defaults, {}) == "/srv");
    RunRequest request;
    request.workdir = "/tmp";
    CHECK(container_workdir(defaults, request) == "/tmp");
    request.workdir = "relative";
    CHECK_THROWS_WITH(container_workdir(defaults, request), Catch::Contains("needs to be an absolute path"));
}

TEST_CASE("run defaults are read from the config, and wrong types refused", "[ch05][unit][config]")
{
    auto config = nlohmann::json::parse(R"({"config":{"Env":["A=1"],"Entrypoint":["/e"],"Cmd":null,
        "WorkingDir":"/w","User":"app"}})");
    RunDefaults defaults = run_defaults(config);
    CHECK(defaults.env == Words{"A=1"});
    CHECK(defaults.entrypoint == Words{"/e"});
    CHECK(defaults.cmd.empty());
    CHECK(defaults.working_dir == "/w");
    CHECK(defaults.user == "app");
    CHECK(run_defaults(nlohmann::json::parse("{}")).cmd.empty());
    CHECK_THROWS_WITH(run_defaults(nlohmann::json::parse(R"({"config":{"Cmd":"sh"}})")), Catch::Contains("\"Cmd\""));
    CHECK_THROWS_WITH(run_defaults(nlohmann::json::parse(R"({"config":{"Env":[1]}})")), Catch::Contains("\"Env\""));
    CHECK_THROWS_WITH(run_defaults(nlohmann::json::parse(R"({"config":{"User":0}})")), Catch::Contains("\"User\""));
}

TEST_CASE("users and groups resolve through the image's /etc/passwd and /etc/group", "[ch05][unit][config]")
{
    test::TempDir dir;
    fs::path root = make_root(dir);

    ExecUser root_user = resolve_user("", root);
    CHECK(root_user.uid == 0);
    CHECK(root_user.gid == 0);
    CHECK(root_user.home == "/root");

    ExecUser app = resolve_user("app", root);
    CHECK(app.uid == 1000);
    CHECK(app.gid == 1000);
    CHECK(app.home == "/home/app");
    CHECK(app.groups == std::vector<gid_t>{50, 29});

    CHECK(resolve_user("1000", root).home == "/home/app");  // found by number too
    ExecUser with_group = resolve_user("app:staff", root);
    CHECK(with_group.gid == 50);
    CHECK(resolve_user("app:4000", root).gid == 4000);
    CHECK(resolve_user(":staff", root).uid == 0);

    ExecUser numeric = resolve_user("4242", root);  // not in passwd: allowed, as runc does
    CHECK(numeric.uid == 4242);
    CHECK(numeric.gid == 0);
    CHECK(numeric.home == "/");
    CHECK(numeric.groups.empty());
    CHECK(resolve_user("4242:4343", root).gid == 4343);
    CHECK(resolve_user("nohome", root).home == "/");
    CHECK(resolve_user("nobody:nogroup", root).gid == 65534);

    CHECK_THROWS_WITH(resolve_user("ghost", root), Catch::Equals("unable to find user ghost: no matching entries in passwd file"));
    CHECK_THROWS_WITH(resolve_user("app:ghosts", root),
                      Catch::Equals("unable to find group ghosts: no matching entries in group file"));
    CHECK_THROWS_WITH(resolve_user("99999999999", root), Catch::Contains("out of range"));
}

TEST_CASE("an image's /etc/passwd cannot point at the host's files", "[ch05][unit][config]")
{
    test::TempDir dir;
    fs::path root = dir.path() / "root";
    fs::create_directories(root / "etc");
    fs::path outside = dir.path() / "outside-passwd";
    test::write_file(outside, "evil:x:7:7::/:/bin/sh\n");
    fs::create_symlink(outside, root / "etc" / "passwd");  // absolute: means <root>/<that path>
    CHECK_THROWS_WITH(resolve_user("evil", root), Catch::Contains("unable to find user evil"));
    fs::remove(root / "etc" / "passwd");
    fs::create_symlink("../../../../../../../" + outside.relative_path().string(), root / "etc" / "passwd");
    CHECK_THROWS_WITH(resolve_user("evil", root), Catch::Contains("unable to find user evil"));
    CHECK(resolve_user("7", root).uid == 7);  // numbers still work without a passwd file
}
