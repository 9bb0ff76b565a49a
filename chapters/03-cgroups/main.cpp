// dockling-ch3: chapter 03's runtime. Chapter 02's isolated process, held to its
// resource limits by a cgroup of its own.
#include "capabilities.hpp"
#include "cgroup_limits.hpp"
#include "cli.hpp"
#include "init.hpp"
#include "namespaces.hpp"
#include "pivot_root.hpp"
#include "user_namespace.hpp"

//! [main]
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

    dockling::CommandLine cli({"dockling-ch3", "Dockling, chapter 03: resource limits with cgroups", 3}, runtime,
                              settings);
    return cli.main(argc, argv);
}
//! [main]
