// A lifting lug (half model, plane stress), millimetres. Second-order triangles.
//   gmsh lug2d.geo -2 -format msh41 -o lug2d.msh
// The lug: a plate 2w wide and h tall below a half disk of radius w, with a pin hole of
// radius r centred at (0, h). Cut along its symmetry line x = 0.
w = 20;    // half width
h = 40;    // height of the straight part
r = 8;     // pin hole radius
size = 1.25;

Point(1) = {0, 0, 0, size};
Point(2) = {w, 0, 0, size};
Point(3) = {w, h, 0, size};
Point(4) = {0, h, 0, size};        // the hole's and the top arc's centre
Point(5) = {0, h + w, 0, size};
Point(6) = {0, h + r, 0, size / 2};
Point(7) = {r, h, 0, size / 2};
Point(8) = {0, h - r, 0, size / 2};

Line(1) = {1, 2};                  // base
Line(2) = {2, 3};                  // side
Circle(3) = {3, 4, 5};             // top arc
Line(4) = {5, 6};                  // symmetry line above the hole
Circle(5) = {6, 4, 7};             // hole, upper quarter
Circle(6) = {7, 4, 8};             // hole, lower quarter
Line(7) = {8, 1};                  // symmetry line below the hole
Curve Loop(1) = {1, 2, 3, 4, 5, 6, 7};
Plane Surface(1) = {1};

Physical Curve("base") = {1};
Physical Curve("edge") = {2, 3};
Physical Curve("sym") = {4, 7};
Physical Curve("hole") = {5, 6};
Physical Surface("body") = {1};

Mesh.ElementOrder = 2;
Mesh.HighOrderOptimize = 1;
