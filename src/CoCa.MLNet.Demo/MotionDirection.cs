namespace CoCa.MLNet.Demo;

/// <summary>The direction a square moves in a synthetic motion video; the class label is the lower-case name.</summary>
public enum MotionDirection
{
    Left,
    Right,
    Up,
    Down,
}
