using System.CommandLine;

namespace LstmSimd.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show the runtime, the CPU's vector features and the kernel path LstmSimd picks.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"runtime   {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
            return 0;
        });
        return command;
    }
}
