using System.Runtime.CompilerServices;
using PublicApiGenerator;
using Xunit;

namespace LstmSimd.Tests.Docs;

/// <summary>
/// Each package's public surface is a promise to its users: this test holds it to the checked-in listing, so every change
/// to it is a visible diff in review. On a difference it writes <c>PACKAGE.received.txt</c> beside the listing;
/// after a deliberate change, run with <c>LSTMSIMD_ACCEPT_API=1</c> to rewrite the listings.
/// </summary>
public class PublicApiTests
{
    public static TheoryData<string> Packages() => ["LstmSimd", "LstmSimd.Forecasting", "LstmSimd.Text", "LstmSimd.Keras"];

    [Theory]
    [MemberData(nameof(Packages))]
    public void The_public_api_is_the_approved_one(string package)
    {
        System.Reflection.Assembly assembly = package switch
        {
            "LstmSimd" => typeof(LstmModel).Assembly,
            "LstmSimd.Forecasting" => typeof(LstmSimd.Forecasting.LstmForecaster).Assembly,
            "LstmSimd.Keras" => typeof(LstmSimd.Keras.KerasModel).Assembly,
            _ => typeof(LstmSimd.Text.CharLanguageModel).Assembly,
        };
        string actual = assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false }).ReplaceLineEndings("\n");
        string folder = Path.GetDirectoryName(ThisFile())!;
        string approvedPath = Path.Combine(folder, $"{package}.approved.txt"), receivedPath = Path.Combine(folder, $"{package}.received.txt");
        if (Environment.GetEnvironmentVariable("LSTMSIMD_ACCEPT_API") == "1") File.WriteAllText(approvedPath, actual);

        string approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : "";
        if (approved == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual);
        Assert.Fail($"The public API differs from {approvedPath}: compare it with {receivedPath}, and if the change is meant, rerun with LSTMSIMD_ACCEPT_API=1.");
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
