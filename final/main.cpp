// dockling: the complete tool, assembled from every chapter's mechanisms.
#include "capabilities.hpp"
#include "cgroup_limits.hpp"
#include "cli.hpp"
#include "image_commands.hpp"
#include "image_root.hpp"
#include "init.hpp"
#include "layered_root.hpp"
#include "namespaces.hpp"
#include "pivot_root.hpp"
#include "storage_commands.hpp"
#include "user_namespace.hpp"

int main(int argc, char** argv)
{
    dockling::Settings settings;
    dockling::Runtime runtime;
    dockling::IsolationOptions isolation;
    auto& image = runtime.add<dockling::ImageRoot>(settings);  // first: it names the layers
    runtime.add<dockling::LayeredRoot>(settings, &image);       // before the root is entered: it makes spec.rootfs
    runtime.add<dockling::UserNamespace>(isolation, settings);
    runtime.add<dockling::Namespaces>(isolation);
    runtime.add<dockling::PivotRoot>(isolation);
    runtime.add<dockling::Capabilities>(isolation);
    runtime.add<dockling::CgroupLimits>();
    runtime.add<dockling::ImageUser>(image);  // after everything that needs root in the child
    runtime.add<dockling::TinyInit>();        // last: the init forks in the container's final state

    dockling::CommandLine cli({"dockling", "Dockling: a container runtime you build to learn how Docker works", 0},
                              runtime, settings);
    dockling::add_storage_commands(cli, settings);
    dockling::ImageCommands images(cli, settings);  // pull stores and verifies; run unpacks
    return cli.main(argc, argv);
}
