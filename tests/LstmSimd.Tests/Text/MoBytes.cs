using System.Buffers.Binary;
using System.Text;

namespace LstmSimd.Tests.Text;

/// <summary>Builds GNU .mo catalogs byte by byte, as msgfmt lays them out (header, two string tables, then the strings), in either byte order.</summary>
internal static class MoBytes
{
    public const string Header = "Content-Type: text/plain; charset=UTF-8\n";

    /// <summary>A catalog of (original, translation) byte strings: contexts as "ctx\u0004id", plurals as "id\0plural" / "one\0many".</summary>
    public static byte[] Build(IReadOnlyList<(string Original, string Translation)> entries, bool bigEndian = false) =>
        BuildRaw([.. entries.Select(e => (Encoding.UTF8.GetBytes(e.Original), Encoding.UTF8.GetBytes(e.Translation)))], bigEndian);

    public static byte[] BuildRaw(IReadOnlyList<(byte[] Original, byte[] Translation)> entries, bool bigEndian = false)
    {
        int n = entries.Count, originals = 28, translations = originals + 8 * n, data = translations + 8 * n;
        var bytes = new List<byte>(new byte[data]);
        var tables = new int[2, n, 2];
        for (int i = 0; i < n; i++)
        {
            for (int side = 0; side < 2; side++)
            {
                byte[] s = side == 0 ? entries[i].Original : entries[i].Translation;
                tables[side, i, 0] = s.Length;
                tables[side, i, 1] = bytes.Count;
                bytes.AddRange(s);
                bytes.Add(0);
            }
        }

        byte[] result = [.. bytes];
        void Put(int at, uint value)
        {
            if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(at), value);
            else BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(at), value);
        }

        Put(0, 0x950412de);
        Put(4, 0);
        Put(8, (uint)n);
        Put(12, (uint)originals);
        Put(16, (uint)translations);
        Put(20, 0); // no hash table
        Put(24, (uint)data);
        for (int i = 0; i < n; i++)
        {
            Put(originals + 8 * i, (uint)tables[0, i, 0]);
            Put(originals + 8 * i + 4, (uint)tables[0, i, 1]);
            Put(translations + 8 * i, (uint)tables[1, i, 0]);
            Put(translations + 8 * i + 4, (uint)tables[1, i, 1]);
        }

        return result;
    }
}
