// dockling-ch5: chapter 01's runtime, plus images: pull, images, tag, rmi, push, login...
#include "chroot_root.hpp"
#include "cli.hpp"
#include "image_commands.hpp"

int main(int argc, char** argv)
{
    dockling::Settings settings;
    dockling::Runtime runtime;
    runtime.add<dockling::ChrootRoot>();

    dockling::CommandLine cli({"dockling-ch5", "Dockling, chapter 05: images from a registry", 5}, runtime, settings);
    dockling::ImageCommands images(cli, settings);
    return cli.main(argc, argv);
}
