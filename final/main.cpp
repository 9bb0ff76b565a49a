// dockling: the complete tool, assembled from every chapter's mechanisms.
#include "capabilities.hpp"
#include "cgroup_limits.hpp"
#include "cli.hpp"
#include "init.hpp"
#include "namespaces.hpp"
#include "pivot_root.hpp"
#include "user_namespace.hpp"

int main(int argc, char** argv)
{
    dockling::Settings settings;
    dockling::Runtime runtime;
    dockling::IsolationOptions isolation;
    runtime.add<dockling::UserNamespace>(isolation, settings);
    runtime.add<dockling::Namespaces>(isolation);
    runtime.add<dockling::PivotRoot>(isolation);
    runtime.add<dockling::Capabilities>(isolation);
    runtime.add<dockling::CgroupLimits>();
    runtime.add<dockling::TinyInit>();  // last: the init forks in the container's final state

    dockling::CommandLine cli({"dockling", "Dockling: a container runtime you build to learn how Docker works", 0},
                              runtime, settings);
    return cli.main(argc, argv);
}
