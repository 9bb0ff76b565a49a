// Chapter 02: what root inside may do. Capabilities (Docker's default set, --cap-add,
// --cap-drop, --privileged), no_new_privs, and user namespaces (--userns).
#include "container.hpp"

#include "capabilities.hpp"
#include "user_namespace.hpp"

#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>

using namespace dockling::test;
using namespace dockling::test::ch02;
using dockling::CapabilitySet;
using dockling::capability_bit;
namespace fs = std::filesystem;

namespace {

/// Docker's default set as /proc/PID/status shows it (`docker run busybox grep Cap ...`).
constexpr CapabilitySet docker_default_mask = 0xa80425fbULL;

CapabilitySet capability_set(pid_t pid, const std::string& field)
{
    return dockling::capability_set_from_status(read_file("/proc/" + std::to_string(pid) + "/status"), field);
}

/// The effective capabilities of a container started with `options`, read inside.
CapabilitySet effective_inside(const std::vector<std::string>& options)
{
    Outcome ran = run_in_busybox(options, {"/bin/cat", "/proc/self/status"});
    INFO(ran.err);
    REQUIRE(ran.exit_code == 0);
    return dockling::capability_set_from_status(ran.out, "CapEff");
}

/// `dockling --config FILE run --rootfs ROOTFS OPTIONS... COMMAND...`
std::vector<std::string> with_config(const fs::path& config, const fs::path& rootfs,
                                     const std::vector<std::string>& rest)
{
    std::vector<std::string> args{"--config", config.string(), "run", "--rootfs", rootfs.string()};
    args.insert(args.end(), rest.begin(), rest.end());
    return args;
}

}  // namespace

TEST_CASE("Docker's default capabilities are the 14 of its default profile", "[ch02][unit]")
{
    CHECK(dockling::docker_default_capabilities() == docker_default_mask);
    CHECK(dockling::capability_name(CAP_NET_ADMIN) == "CAP_NET_ADMIN");
    CHECK(dockling::capability_name(CAP_CHECKPOINT_RESTORE) == "CAP_CHECKPOINT_RESTORE");
    CHECK(dockling::capability_name(62) == "CAP_62");
    CHECK(dockling::all_capabilities() == capability_bit(dockling::last_capability() + 1) - 1);
}

TEST_CASE("capability names as Docker reads them", "[ch02][unit][ex2.2]")
{
    CHECK(dockling::capability_from_name("NET_ADMIN") == CAP_NET_ADMIN);
    CHECK(dockling::capability_from_name("CAP_NET_ADMIN") == CAP_NET_ADMIN);
    CHECK(dockling::capability_from_name("cap_sys_admin") == CAP_SYS_ADMIN);
    CHECK(dockling::capability_from_name("Chown") == CAP_CHOWN);
    CHECK(dockling::capability_from_name("checkpoint_restore") == CAP_CHECKPOINT_RESTORE);
    CHECK_THROWS_WITH(dockling::capability_from_name("NO_SUCH"), "unknown capability: \"CAP_NO_SUCH\"");
    CHECK_THROWS_WITH(dockling::capability_from_name("CAP_"), "unknown capability: \"CAP_\"");
    CHECK_THROWS_WITH(dockling::capability_from_name(""), "unknown capability: \"CAP_\"");
}

TEST_CASE("--cap-add and --cap-drop follow Docker's rules", "[ch02][unit][ex2.2]")
{
    using dockling::resolve_capabilities;
    CapabilitySet defaults = dockling::docker_default_capabilities();
    CapabilitySet all = dockling::all_capabilities();
    CHECK(resolve_capabilities(defaults, {"NET_ADMIN"}, {}) == (defaults | capability_bit(CAP_NET_ADMIN)));
    CHECK(resolve_capabilities(defaults, {}, {"chown", "CAP_KILL"}) ==
          (defaults & ~capability_bit(CAP_CHOWN) & ~capability_bit(CAP_KILL)));
    // Adding wins over dropping the same capability...
    CHECK(resolve_capabilities(defaults, {"CHOWN"}, {"CHOWN"}) == defaults);
    // ...except that ALL in --cap-add means "everything but what is dropped".
    CHECK(resolve_capabilities(defaults, {"ALL"}, {"SYS_ADMIN"}) == (all & ~capability_bit(CAP_SYS_ADMIN)));
    CHECK(resolve_capabilities(defaults, {"KILL"}, {"ALL"}) == capability_bit(CAP_KILL));
    CHECK_THROWS_WITH(resolve_capabilities(defaults, {"BOGUS"}, {}), "unknown capability: \"CAP_BOGUS\"");
}

TEST_CASE("ALL alone: every capability, or none", "[ch02][unit]")
{
    CapabilitySet defaults = dockling::docker_default_capabilities();
    CHECK(dockling::resolve_capabilities(defaults, {"all"}, {}) == dockling::all_capabilities());
    CHECK(dockling::resolve_capabilities(defaults, {}, {"ALL"}) == 0);
    CHECK(dockling::resolve_capabilities(defaults, {}, {}) == defaults);
}

TEST_CASE("the container runs with Docker's default capabilities and no_new_privs", "[ch02][capabilities]")
{
    DOCKLING_REQUIRE_ROOT();
    RunningContainer container;
    CHECK(capability_set(container.pid(), "CapBnd") == docker_default_mask);
    CHECK(capability_set(container.pid(), "CapPrm") == docker_default_mask);
    CHECK(capability_set(container.pid(), "CapEff") == docker_default_mask);
    CHECK(capability_set(container.pid(), "CapInh") == 0);
    CHECK(capability_set(container.pid(), "CapAmb") == 0);
    CHECK(status_field(container.pid(), "NoNewPrivs") == "1");

    // What that means: root inside cannot rename the machine, reconfigure the network
    // or mount, though it is uid 0.
    Outcome denied = run_in_busybox({}, {"/bin/sh", "-c",
                                         "id -u; hostname other || echo no SYS_ADMIN; ip link set lo down || "
                                         "echo no NET_ADMIN; mount -t tmpfs none /tmp || echo no mount"});
    CHECK(denied.out == "0\nno SYS_ADMIN\nno NET_ADMIN\nno mount\n");
}

TEST_CASE("--cap-add and --cap-drop change what root inside may do", "[ch02][capabilities][ex2.2]")
{
    DOCKLING_REQUIRE_ROOT();
    CHECK(effective_inside({"--cap-add", "NET_ADMIN"}) == (docker_default_mask | capability_bit(CAP_NET_ADMIN)));
    CHECK(effective_inside({"--cap-drop", "chown", "--cap-drop", "CAP_KILL"}) ==
          (docker_default_mask & ~capability_bit(CAP_CHOWN) & ~capability_bit(CAP_KILL)));
    CHECK(effective_inside({"--cap-drop", "ALL", "--cap-add", "SETUID"}) == capability_bit(CAP_SETUID));

    Outcome admin = run_in_busybox({"--cap-add", "NET_ADMIN"}, {"/bin/sh", "-c", "ip link set lo down && echo down"});
    CHECK(admin.out == "down\n");
    Outcome no_chown = run_in_busybox({"--cap-drop", "CHOWN"}, {"/bin/sh", "-c", "chown 1 /tmp || echo refused"});
    CHECK(no_chown.out == "refused\n");

    Outcome unknown = run_in_busybox({"--cap-add", "NO_SUCH"}, {"/bin/true"});
    CHECK(unknown.exit_code == 125);
    CHECK(unknown.err.find("unknown capability: \"CAP_NO_SUCH\"") != std::string::npos);
    CHECK(one_line(unknown.err));
}

TEST_CASE("a capability dockling does not have cannot be given", "[ch02][capabilities][ex2.2]")
{
    DOCKLING_REQUIRE_ROOT();
    CapabilitySet own = capability_set(::getpid(), "CapPrm");
    CapabilitySet missing = dockling::all_capabilities() & ~own;
    if (missing == 0) {
        DOCKLING_SKIP("this test runs with every capability: there is none dockling lacks");
    }
    std::string name = dockling::capability_name(std::countr_zero(missing));
    Outcome ran = run_in_busybox({"--cap-add", name}, {"/bin/true"});
    CHECK(ran.exit_code == 125);
    CHECK(ran.err.find("cannot give the container " + name + ": dockling does not have it itself") !=
          std::string::npos);
}

TEST_CASE("--privileged keeps every capability dockling has, without no_new_privs", "[ch02][capabilities]")
{
    DOCKLING_REQUIRE_ROOT();
    RunningContainer container({"--privileged"});
    CHECK(capability_set(container.pid(), "CapEff") == capability_set(::getpid(), "CapPrm"));
    CHECK(capability_set(container.pid(), "CapBnd") == capability_set(::getpid(), "CapPrm"));
    CHECK(status_field(container.pid(), "NoNewPrivs") == "0");
    CHECK(effective_inside({"--cap-drop", "ALL"}) == 0);
}

TEST_CASE("--userns: root inside is an unprivileged user outside", "[ch02][userns][ex2.3]")
{
    DOCKLING_REQUIRE_ROOT();
    RunningContainer container({"--userns"}, "touch /tmp/made-inside; id -u > /tmp/id; exec sleep 60");
    pid_t pid = container.pid();
    CHECK(read_file("/proc/" + std::to_string(pid) + "/uid_map") == "         0     100000      65536\n");
    CHECK(read_file("/proc/" + std::to_string(pid) + "/gid_map") == "         0     100000      65536\n");
    CHECK(status_field(pid, "Uid") == "100000\t100000\t100000\t100000");
    CHECK(namespace_of(pid, "user") != namespace_of(::getpid(), "user"));
    CHECK(wait_for_file(container.file("id")) == "0\n");
    // A file root created inside, seen from the host: it belongs to host uid 100000.
    struct stat made {};
    REQUIRE(::stat(container.file("made-inside").c_str(), &made) == 0);
    CHECK(made.st_uid == 100000);
    CHECK(made.st_gid == 100000);
    // Its capabilities are Docker's defaults, but over its own namespaces only.
    CHECK(capability_set(pid, "CapEff") == docker_default_mask);
}

TEST_CASE("--userns: files of the host's root are not root's inside", "[ch02][userns][ex2.3]")
{
    DOCKLING_REQUIRE_ROOT();
    // /etc/passwd belongs to the host's root: inside it shows as nobody's, and not even
    // CAP_DAC_OVERRIDE lets root inside write it.
    Outcome ran = run_in_busybox({"--userns"}, {"/bin/sh", "-c",
                                                "stat -c %u /etc/passwd; echo x >> /etc/passwd || echo refused"});
    CHECK(ran.out == "65534\nrefused\n");
}

TEST_CASE("--userns takes its id range from the config file", "[ch02][userns][ex2.3]")
{
    DOCKLING_REQUIRE_ROOT();
    TempDir dir;
    fs::path config = dir.path() / "config.json";
    write_file(config, R"({"userns-range": "200000:1000"})");
    Outcome ran = run_dockling(with_config(config, busybox_rootfs(), {"--userns", "/bin/cat", "/proc/self/uid_map"}));
    CHECK(ran.exit_code == 0);
    CHECK(ran.out == "         0     200000       1000\n");
}

TEST_CASE("--userns errors: a bad range, --privileged, --network host", "[ch02][userns][errors]")
{
    DOCKLING_REQUIRE_ROOT();
    TempDir dir;
    fs::path config = dir.path() / "config.json";
    for (const char* bad : {R"({"userns-range": "0:65536"})", R"({"userns-range": "100000"})",
                            R"({"userns-range": 100000})", R"({"userns-range": "1:x"})"}) {
        INFO(bad);
        write_file(config, bad);
        Outcome ran = run_dockling(with_config(config, busybox_rootfs(), {"--userns", "/bin/true"}));
        CHECK(ran.exit_code == 125);
        CHECK(ran.err.find("\"userns-range\" must be \"START:COUNT\"") != std::string::npos);
        CHECK(one_line(ran.err));
    }
    Outcome privileged = run_in_busybox({"--userns", "--privileged"}, {"/bin/true"});
    CHECK(privileged.exit_code == 125);
    CHECK(privileged.err.find("--privileged cannot be combined with --userns") != std::string::npos);
    Outcome host = run_in_busybox({"--userns", "--network", "host"}, {"/bin/true"});
    CHECK(host.exit_code == 125);
    CHECK(host.err.find("--network host cannot be combined with --userns") != std::string::npos);
}

TEST_CASE("--userns run by an ordinary user maps root inside to that user", "[ch02][userns][ex2.3]")
{
    DOCKLING_REQUIRE_ROOT();
    if (!fs::exists("/usr/bin/setpriv")) {
        DOCKLING_SKIP("needs setpriv (util-linux) to run dockling as an ordinary user");
    }
    // nobody runs dockling, in a rootfs of its own.
    TempDir dir;
    fs::permissions(dir.path(), fs::perms::all & ~fs::perms::group_write & ~fs::perms::others_write);
    fs::path rootfs = copy_of_busybox_rootfs(dir);
    REQUIRE(run_program({"chown", "-R", "65534:65534", rootfs.string()}).exit_code == 0);
    Outcome ran = run_program({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               dockling_binary().string(), "--config", (dir.path() / "none.json").string(), "run",
                               "--rootfs", rootfs.string(), "--userns", "/bin/sh", "-c",
                               "id -u; cat /proc/self/uid_map; touch /tmp/made-inside"});
    INFO(ran.err);
    CHECK(ran.exit_code == 0);
    CHECK(ran.out == "0\n         0      65534          1\n");
    struct stat made {};
    REQUIRE(::stat((rootfs / "tmp/made-inside").c_str(), &made) == 0);
    CHECK(made.st_uid == 65534);

    // Without --userns an ordinary user cannot make namespaces at all.
    Outcome refused = run_program({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                   dockling_binary().string(), "run", "--rootfs", rootfs.string(), "/bin/true"});
    CHECK(refused.exit_code == 125);
    CHECK(refused.err.find("new namespaces need CAP_SYS_ADMIN: run dockling as root, or with --userns") !=
          std::string::npos);
}

TEST_CASE("id maps are written as the kernel reads them", "[ch02][unit]")
{
    CHECK(dockling::id_map_line({0, 100000, 65536}) == "0 100000 65536\n");
    dockling::Settings settings;
    CHECK(dockling::userns_range(settings).outside == 100000);
    CHECK(dockling::userns_range(settings).count == 65536);
    settings.config = nlohmann::json::parse(R"({"userns-range": "300000:10"})");
    CHECK(dockling::userns_range(settings).outside == 300000);
    CHECK(dockling::userns_range(settings).count == 10);
}
