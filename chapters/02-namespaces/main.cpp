// dockling-ch2: chapter 02's runtime. A container is a process in namespaces of its own,
// with its own root (pivot_root), /proc and /dev, and only some of root's capabilities.
#include "capabilities.hpp"
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
    runtime.add<dockling::TinyInit>();  // last: the init forks in the container's final state

    dockling::CommandLine cli({"dockling-ch2", "Dockling, chapter 02: a process in namespaces of its own", 2}, runtime,
                              settings);
    return cli.main(argc, argv);
}
//! [main]
