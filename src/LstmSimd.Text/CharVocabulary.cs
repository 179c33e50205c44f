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
