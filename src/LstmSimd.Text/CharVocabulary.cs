using LstmSimd.IO;

namespace LstmSimd.Text;

/// <summary>The characters a character-level model knows, in ordinal order; a character's index is its class.</summary>
public sealed class CharVocabulary
{
    private readonly Dictionary<char, int> _index;

    /// <summary>A vocabulary of exactly <paramref name="characters"/> (distinct).</summary>
    public CharVocabulary(string characters)
    {
        ArgumentException.ThrowIfNullOrEmpty(characters);
        Characters = characters;
        _index = [];
        for (int i = 0; i < characters.Length; i++)
            if (!_index.TryAdd(characters[i], i)) throw new ArgumentException($"The character U+{(int)characters[i]:X4} appears twice.", nameof(characters));
    }

    /// <summary>The characters; index = class.</summary>
    public string Characters { get; }

    /// <summary>The number of characters.</summary>
    public int Count => Characters.Length;

    /// <summary>Every distinct character of <paramref name="text"/>, sorted.</summary>
    public static CharVocabulary FromText(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        char[] distinct = [.. text.Distinct()];
        Array.Sort(distinct);
        return new CharVocabulary(new string(distinct));
    }

    /// <summary>Whether the vocabulary holds <paramref name="c"/>.</summary>
    public bool Contains(char c) => _index.ContainsKey(c);

    /// <summary>The distinct characters of <paramref name="text"/> that the vocabulary lacks, in order of first appearance.</summary>
    public IReadOnlyList<char> Missing(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. text.Where(c => !_index.ContainsKey(c)).Distinct()];
    }

    /// <summary>The missing characters as a user reads them: quoted, with their code points.</summary>
    public static string Describe(IEnumerable<char> characters) =>
        string.Join(", ", characters.Select(c => $"{UserText.Quote(c.ToString())} (U+{(int)c:X4})"));

    /// <summary>The class of each character.</summary>
    /// <exception cref="ArgumentException">A character is not in the vocabulary.</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
            ids[i] = _index.TryGetValue(text[i], out int id) ? id : throw new ArgumentException($"The character {UserText.Quote(text[i].ToString())} (U+{(int)text[i]:X4}) at position {i} is not in the model's vocabulary.");
        return ids;
    }
}

/// <summary>
/// Which text a model was trained on: its file name, the SHA-256 of its UTF-8 bytes and its length, saved with the model
/// so that a checkpoint says where it came from and a text given later can be recognised as the same one or not.
/// </summary>
/// <param name="Name">The text's file name (no folder), or a label.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the text's UTF-8 encoding.</param>
/// <param name="Characters">The text's length in UTF-16 characters.</param>
public sealed record CharTextSource(string Name, string Sha256, long Characters)
{
    /// <summary>The source record of <paramref name="text"/> under <paramref name="name"/>.</summary>
    public static CharTextSource Of(string name, string text)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(text);
        byte[] hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        return new CharTextSource(name, Convert.ToHexStringLower(hash), text.Length);
    }

    /// <summary>Whether <paramref name="text"/> is the text this record describes (same length and hash).</summary>
    public bool Describes(string text) => text.Length == Characters && Of(Name, text).Sha256 == Sha256;
}
