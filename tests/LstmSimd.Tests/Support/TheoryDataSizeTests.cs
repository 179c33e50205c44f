using System.Collections;
using System.Reflection;
using Xunit;

namespace LstmSimd.Tests.Support;

/// <summary>
/// xunit serialises every theory argument at discovery, an array element by element, and deserialises them all at once
/// before the first test runs: one megabyte array costs it hundreds of megabytes, and under the suite's GC heap limit
/// the whole run can fail before any test starts. Large inputs are built inside the test from a case name.
/// </summary>
public class TheoryDataSizeTests
{
    private const int MaxElements = 4096;

    [Fact]
    public void No_theory_argument_is_a_large_array()
    {
        var large = new List<string>();
        foreach (MethodInfo test in typeof(TheoryDataSizeTests).Assembly.GetTypes().SelectMany(t => t.GetMethods()))
        {
            foreach (MemberDataAttribute data in test.GetCustomAttributes<MemberDataAttribute>())
            {
                foreach (object?[] row in data.GetData(test))
                {
                    foreach (object? argument in row)
                    {
                        if (argument is ICollection { Count: > MaxElements } collection)
                            large.Add($"{test.DeclaringType!.Name}.{test.Name}: {collection.Count} elements");
                    }
                }
            }
        }

        Assert.True(large.Count == 0, "theory arguments above " + MaxElements + " elements:\n" + string.Join("\n", large));
    }
}
