using System.ComponentModel;
using System.Diagnostics;

namespace CoCa.MLNet.Video;

/// <summary>
/// One ffmpeg/ffprobe child process with the lifetime rules video reading needs: arguments passed verbatim (no shell),
/// stderr collected in the background (a full stderr pipe would stall the child), killed with its process tree on
/// timeout, on cancellation and on <see cref="Dispose"/> before it exits, and always waited for so that no zombie remains.
/// </summary>
internal sealed class FfmpegProcess : IDisposable
{
    private const int StderrLinesKept = 20;

    private readonly Process _process;
    private readonly string _videoPath;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _userToken;
    private readonly CancellationTokenSource _timeoutSource;
    private readonly CancellationTokenSource _linkedSource;
    private readonly CancellationTokenRegistration _killOnStop;
    private readonly Queue<string> _stderrTail = new();
    private bool _disposed;

    private FfmpegProcess(Process process, string videoPath, TimeSpan timeout, CancellationToken userToken)
    {
        _process = process;
        _videoPath = videoPath;
        _timeout = timeout;
        _userToken = userToken;
        _timeoutSource = new CancellationTokenSource(timeout);
        _linkedSource = CancellationTokenSource.CreateLinkedTokenSource(userToken, _timeoutSource.Token);
        _killOnStop = _linkedSource.Token.Register(static state => ((FfmpegProcess)state!).Kill(), this);
    }

    /// <summary>Starts <paramref name="executable"/>; <paramref name="videoPath"/> is named in every error.</summary>
    public static FfmpegProcess Start(string executable, IEnumerable<string> arguments, string videoPath, TimeSpan timeout,
        CancellationToken cancellationToken, bool redirectStandardInput = false)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var info = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStandardInput,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);

        var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new VideoDecodingException(videoPath,
                $"Cannot process video '{videoPath}': '{executable}' could not be started ({e.Message}). " +
                "Install Debian's ffmpeg package (apt-get install ffmpeg), which provides ffmpeg and ffprobe, " +
                "or set VideoReaderOptions.FfmpegPath/FfprobePath to their location.", e);
        }

        var wrapper = new FfmpegProcess(process, videoPath, timeout, cancellationToken);
        process.ErrorDataReceived += wrapper.OnStderrLine;
        process.BeginErrorReadLine();
        return wrapper;
    }

    public int Id => _process.Id;

    /// <summary>The child's stdout as raw bytes.</summary>
    public Stream StandardOutput => _process.StandardOutput.BaseStream;

    /// <summary>The child's stdin as raw bytes (only when started with <c>redirectStandardInput</c>).</summary>
    public Stream StandardInput => _process.StandardInput.BaseStream;

    /// <summary>The last lines ffmpeg wrote to stderr, for error messages.</summary>
    public string StderrTail
    {
        get
        {
            lock (_stderrTail) return string.Join(" | ", _stderrTail);
        }
    }

    /// <summary>
    /// Waits for the child to exit and returns its exit code; throws <see cref="OperationCanceledException"/> when the
    /// caller cancelled and <see cref="VideoDecodingException"/> when the timeout killed it.
    /// </summary>
    public int WaitForExit()
    {
        _process.WaitForExit(); // also drains the stderr reader
        ThrowIfStopped();
        return _process.ExitCode;
    }

    /// <summary>Throws when the process was killed because of cancellation or the timeout.</summary>
    public void ThrowIfStopped()
    {
        _userToken.ThrowIfCancellationRequested();
        if (_timeoutSource.IsCancellationRequested)
            throw new VideoDecodingException(_videoPath,
                $"Reading video '{_videoPath}' took longer than the {_timeout.TotalSeconds:0.###} s timeout; " +
                $"'{_process.StartInfo.FileName}' was stopped. Raise VideoReaderOptions.Timeout for long videos.");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _killOnStop.Dispose();
        Kill();
        try
        {
            _process.WaitForExit(); // reap the child: no zombie
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        _linkedSource.Dispose();
        _timeoutSource.Dispose();
        _process.Dispose();
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited between the check and the kill
        }
        catch (Win32Exception)
        {
            // the process is exiting on its own
        }
    }

    private void OnStderrLine(object sender, DataReceivedEventArgs e)
    {
        if (string.IsNullOrWhiteSpace(e.Data)) return;
        lock (_stderrTail)
        {
            _stderrTail.Enqueue(e.Data.Trim());
            while (_stderrTail.Count > StderrLinesKept) _stderrTail.Dequeue();
        }
    }
}
